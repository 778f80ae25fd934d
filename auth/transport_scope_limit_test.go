package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/transport"
)

// A registry's Bearer challenge may name the scopes a token must cover;
// one naming more than the RoundTripper keeps per token is refused with a
// LimitError before any token request, so that a registry answering every
// request with a new list of 100,000 scopes cannot fill the token cache
// (80 such requests held 768 MiB of heap before the limit).
func TestTransportChallengeScopeLimit(t *testing.T) {
	scopes := func(n, size int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("repository:r%0*d:pull", size, i)
		}
		return strings.Join(s, " ")
	}
	cases := []struct {
		name  string
		scope string
		unit  string // "" for success
	}{
		{"two scopes", "repository:a:pull repository:b:pull,push", ""},
		{"64 scopes", scopes(64, 1), ""},
		{"65 scopes", scopes(65, 1), "entries"},
		{"100000 scopes", scopes(100000, 1), "bytes"},
		{"one scope of 20 KiB", scopes(1, 20<<10), "bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tokens atomic.Int64
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					tokens.Add(1)
					fmt.Fprint(w, `{"token":"tok"}`)
					return
				}
				if r.Header.Get("Authorization") == "Bearer tok" {
					return
				}
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="s",scope=%q`, srv.URL+"/token", tc.scope))
				w.WriteHeader(http.StatusUnauthorized)
			}))
			defer srv.Close()
			rt := auth.NewRoundTripper(strings.TrimPrefix(srv.URL, "http://"), nil, nil)
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/v2/x/manifests/latest", nil)
			resp, err := rt.RoundTrip(req)
			if tc.unit == "" {
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || tokens.Load() != 1 {
					t.Fatalf("status %d after %d token requests, want 200 after 1", resp.StatusCode, tokens.Load())
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("RoundTrip: status %d, want a LimitError", resp.StatusCode)
			}
			var le *transport.LimitError
			if !errors.As(err, &le) || le.Unit != tc.unit || !errors.Is(err, transport.ErrLimitExceeded) {
				t.Fatalf("RoundTrip: %v, want a LimitError in %s", err, tc.unit)
			}
			if n := tokens.Load(); n != 0 {
				t.Fatalf("%d token requests, want none", n)
			}
		})
	}
}
