package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/auth"
)

// A token server (or, for Login, a registry) that stalls fails the token
// request once it has taken longer than the token timeout, instead of
// holding the request, and every request waiting for its token, for as
// long as the caller's context lets it: forever without a deadline.
func TestTokenRequestTimeout(t *testing.T) {
	stalls := map[string]func(w http.ResponseWriter, r *http.Request){
		"no answer": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"one byte at a time": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			for {
				if _, err := w.Write([]byte{' '}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(50 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
		},
	}
	defer auth.SetLoginTimeout(200 * time.Millisecond)()
	for name, stall := range stalls {
		for _, login := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, login %v", name, login), func(t *testing.T) {
				var srv *httptest.Server
				srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/token" {
						stall(w, r)
						return
					}
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="s"`, srv.URL+"/token"))
					w.WriteHeader(http.StatusUnauthorized)
				}))
				defer srv.Close()
				host := strings.TrimPrefix(srv.URL, "http://")
				// The deadline only ends the test on code without the timeout.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				var err error
				if login {
					err = auth.Login(ctx, host, auth.Credential{Username: "u", Password: "p"}, nil)
				} else {
					rt := auth.NewRoundTripper(host, nil, nil)
					auth.SetTokenTimeout(rt, 200*time.Millisecond)
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v2/x/manifests/latest", nil)
					var resp *http.Response
					if resp, err = rt.RoundTrip(req); err == nil {
						resp.Body.Close()
					}
				}
				if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "no answer within") {
					t.Fatalf("got %v (context: %v), want a token timeout", err, ctx.Err())
				}
			})
		}
	}
}
