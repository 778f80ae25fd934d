package auth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/auth"
)

func TestRealmChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, realm, want string
	}{
		{"plain http on another host", "http://auth.example.com/token", "plain HTTP"},
		{"other scheme", "ftp://auth.example.com/token", "scheme"},
		{"relative", "/token", "no usable realm"},
		{"user info", "https://user:pw@auth.example.com/token", "user information"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, nil)
			reg.realm = tc.realm
			var offHost int
			var mu sync.Mutex
			base := rtRoundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Host != reg.host {
					mu.Lock()
					offHost++
					mu.Unlock()
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			tr := auth.NewRoundTripper(reg.host, &rtStore{cred: auth.Credential{Username: "u", Password: "pw"}}, base)
			req, _ := http.NewRequestWithContext(t.Context(), "GET", reg.url("/v2/app/manifests/latest"), nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("RoundTrip succeeded, want a refusal")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pw@") {
				t.Errorf("RoundTrip error = %q, want one saying %q, without secrets", err, tc.want)
			}
			if offHost != 0 || reg.fetches.Load() != 0 {
				t.Errorf("%d requests left the registry and %d token requests were made, want none", offHost, reg.fetches.Load())
			}
		})
	}
}

type rtRoundTripFunc func(*http.Request) (*http.Response, error)

func (f rtRoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRedirectToAnotherHostGetsNoAuthorization(t *testing.T) {
	t.Parallel()
	var cdnAuth []string
	var mu sync.Mutex
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cdnAuth = append(cdnAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, "blob bytes")
	}))
	t.Cleanup(cdn.Close)
	reg := newAuthRegistry(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cdn.URL+"/bucket/blob?sig=x", http.StatusTemporaryRedirect)
	}))
	reg.anonymous = true
	store := &rtStore{}
	hc := &http.Client{Transport: auth.NewRoundTripper(reg.host, store, nil)}
	for range 2 {
		resp, err := hc.Get(reg.url("/v2/app/blobs/sha256:abc"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "blob bytes" {
			t.Fatalf("body = %q", b)
		}
	}
	if want := []string{"", ""}; !reflect.DeepEqual(cdnAuth, want) {
		t.Errorf("CDN saw Authorization %q, want none", cdnAuth)
	}
	if got := reg.fetches.Load(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
}

func TestOtherHostsPassThrough(t *testing.T) {
	t.Parallel()
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(other.Close)
	store := &rtStore{cred: auth.Credential{Username: "u", Password: "p"}}
	tr := auth.NewRoundTripper("registry.example:5000", store, nil)
	if code, _ := rtDo(t, tr, "GET", other.URL+"/v2/app/manifests/latest", nil); code != 401 {
		t.Errorf("GET = %d, want the other host's 401 untouched", code)
	}
	if store.count() != 0 || len(seen) != 1 || seen[0] != "" {
		t.Errorf("store asked %d times, other host saw %q, want 0 and one bare request", store.count(), seen)
	}
}

func TestCallerAuthorizationIsKept(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	store := &rtStore{}
	tr := auth.NewRoundTripper(reg.host, store, nil)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", reg.url("/v2/app/manifests/latest"), nil)
	req.Header.Set("Authorization", "Bearer mine")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || reg.fetches.Load() != 0 || store.count() != 0 {
		t.Errorf("got %d with %d fetches, want the 401 to the caller's own header, untouched", resp.StatusCode, reg.fetches.Load())
	}
}

func TestRequestIsNotChanged(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	body := []byte("manifest")
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", reg.url("/v2/app/manifests/v1"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	before := req.Header.Clone()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT = %d", resp.StatusCode)
	}
	if !reflect.DeepEqual(req.Header, before) {
		t.Errorf("request header became %v, want %v", req.Header, before)
	}
	if len(reg.bodies) != 1 || reg.bodies[0] != "manifest" {
		t.Errorf("handler read %q, want the replayed body whole, once", reg.bodies)
	}
}

func TestProbeWaiters(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	gate := make(chan struct{})
	var calls int
	var mu sync.Mutex
	base := rtRoundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			<-gate
			return nil, errors.New("connection reset")
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	tr := auth.NewRoundTripper(reg.host, nil, base)
	probeErr := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", reg.url("/v2/app/manifests/latest"), nil)
		_, err := tr.RoundTrip(req)
		probeErr <- err
	}()
	for {
		mu.Lock()
		c := calls
		mu.Unlock()
		if c == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// A request waiting for the probe gives up with its context, closing
	// its body.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b := &rtBodies{s: "x"}
	req, _ := http.NewRequestWithContext(ctx, "GET", reg.url("/v2/app/tags/list"), nil)
	req.Body = b.next()
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting request error = %v, want context.Canceled", err)
	}
	b.checkClosedOnce(t, 1)
	// The probe fails; the next request probes again.
	close(gate)
	if err := <-probeErr; err == nil {
		t.Fatal("probe succeeded, want its network error")
	}
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 {
		t.Errorf("GET after a failed probe = %d, want 200", code)
	}
}

// idleCloser is a round tripper that counts CloseIdleConnections calls.
type idleCloser struct {
	http.RoundTripper
	closed int
}

func (c *idleCloser) CloseIdleConnections() { c.closed++ }

func TestCloseIdleConnectionsPassesOn(t *testing.T) {
	t.Parallel()
	base := &idleCloser{}
	auth.NewRoundTripper("registry.example", nil, base).CloseIdleConnections()
	if base.closed != 1 {
		t.Errorf("base closed %d times, want 1", base.closed)
	}
	// A base without the method is left alone.
	auth.NewRoundTripper("registry.example", nil, struct{ http.RoundTripper }{}).CloseIdleConnections()
}
