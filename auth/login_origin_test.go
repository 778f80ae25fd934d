package auth_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// originWorld is a set of test servers reached by name: a request for
// host:port is dialled to the server registered under it, over TLS when the
// server was added as https. Every request is recorded with its origin.
type originWorld struct {
	t       *testing.T
	servers map[string]*httptest.Server // by host:port
	mu      sync.Mutex
	hits    []originHit
}

// originHit is one request a server of an originWorld got.
type originHit struct {
	origin string // scheme://host:port
	dump   string // request line, headers and body
}

func newOriginWorld(t *testing.T) *originWorld {
	return &originWorld{t: t, servers: map[string]*httptest.Server{}}
}

// add serves origin ("https://reg.example:443") with h.
func (w *originWorld) add(origin string, h http.HandlerFunc) {
	scheme, hostport, _ := strings.Cut(origin, "://")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
		for k, vs := range r.Header {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		b.Write(body)
		w.mu.Lock()
		w.hits = append(w.hits, originHit{origin: origin, dump: b.String()})
		w.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h(rw, r)
	}))
	if scheme == "https" {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	w.t.Cleanup(srv.Close)
	w.servers[hostport] = srv
}

// transport dials the world's servers by name, trusting their certificates.
func (w *originWorld) transport() *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			srv, ok := w.servers[addr]
			if !ok {
				return nil, fmt.Errorf("no test server at %s", addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test servers
	}
}

// leaks returns the requests to origins other than allowed that hold one
// of secrets.
func (w *originWorld) leaks(allowed []string, secrets []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, h := range w.hits {
		ok := false
		for _, a := range allowed {
			ok = ok || h.origin == a
		}
		for _, s := range secrets {
			if !ok && strings.Contains(h.dump, s) {
				out = append(out, h.origin+": "+strings.SplitN(h.dump, "\n", 2)[0])
				break
			}
		}
	}
	return out
}

func originRedirect(to string, code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", to)
		w.WriteHeader(code)
	}
}

// originChallenge answers 401 with challenge to a request without
// credentials, and then with next.
func originChallenge(challenge string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", challenge)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// originRecord just answers 200 with a token, as a server that got what it
// wanted would.
func originRecord(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, `{"token":"tok","access_token":"tok"}`)
}

// TestLoginKeepsTheCredentialOnItsOrigin is findings 2 and 3 of issue 13:
// each case names a place the credential must not reach. Login must refuse
// with an *transport.OriginError before sending it there, and neither the client
// of registry.New (remote.Client with the auth middleware) nor an
// auth.RoundTripper under a plain http.Client may send it there: one set of
// rules.
func TestLoginKeepsTheCredentialOnItsOrigin(t *testing.T) {
	t.Parallel()
	password := auth.Credential{Username: "alice", Password: "s3cret-pw"}
	identity := auth.Credential{Username: "alice", IdentityToken: "refresh-s3cret"}
	tests := []struct {
		name string
		host string // the registry, as given to Login
		cred auth.Credential
		// servers by origin; the registry's and allowed origins may see the
		// credential, no other.
		servers map[string]http.HandlerFunc
		allowed []string
	}{
		{
			name: "registry redirects /v2/ to another port",
			host: "localhost:5000", cred: password,
			servers: map[string]http.HandlerFunc{
				"http://localhost:5000": originChallenge(`Basic realm="r"`, originRedirect("http://localhost:5001/v2/", http.StatusTemporaryRedirect)),
				"http://localhost:5001": originRecord,
			},
			allowed: []string{"http://localhost:5000"},
		},
		{
			name: "registry redirects https to http on the same host",
			host: "reg.example", cred: password,
			servers: map[string]http.HandlerFunc{
				"https://reg.example:443": originChallenge(`Basic realm="r"`, originRedirect("http://reg.example/v2/", http.StatusFound)),
				"http://reg.example:80":   originRecord,
			},
			allowed: []string{"https://reg.example:443"},
		},
		{
			name: "https realm redirects to plain http",
			host: "reg.example", cred: password,
			servers: map[string]http.HandlerFunc{
				"https://reg.example:443":  originChallenge(`Bearer realm="https://auth.example/token",service="reg"`, originRecord),
				"https://auth.example:443": originRedirect("http://auth.example/token", http.StatusFound),
				"http://auth.example:80":   originRecord,
			},
			allowed: []string{"https://reg.example:443", "https://auth.example:443"},
		},
		{
			name: "plain-http realm off loopback for a loopback registry",
			host: "localhost:5000", cred: password,
			servers: map[string]http.HandlerFunc{
				"http://localhost:5000":  originChallenge(`Bearer realm="http://auth.example/token",service="reg"`, originRecord),
				"http://auth.example:80": originRecord,
			},
			allowed: []string{"http://localhost:5000"},
		},
		{
			name: "token request redirected to a subdomain",
			host: "reg.example", cred: password,
			servers: map[string]http.HandlerFunc{
				"https://reg.example:443":       originChallenge(`Bearer realm="https://auth.example/token",service="reg"`, originRecord),
				"https://auth.example:443":      originRedirect("https://evil.auth.example/token", http.StatusFound),
				"https://evil.auth.example:443": originRecord,
			},
			allowed: []string{"https://reg.example:443", "https://auth.example:443"},
		},
		{
			name: "token request redirected to another port",
			host: "reg.example", cred: password,
			servers: map[string]http.HandlerFunc{
				"https://reg.example:443":   originChallenge(`Bearer realm="https://auth.example/token",service="reg"`, originRecord),
				"https://auth.example:443":  originRedirect("https://auth.example:8443/token", http.StatusTemporaryRedirect),
				"https://auth.example:8443": originRecord,
			},
			allowed: []string{"https://reg.example:443", "https://auth.example:443"},
		},
		{
			name: "refresh-token POST redirected to another host",
			host: "reg.example", cred: identity,
			servers: map[string]http.HandlerFunc{
				"https://reg.example:443":       originChallenge(`Bearer realm="https://auth.example/token",service="reg"`, originRecord),
				"https://auth.example:443":      originRedirect("https://elsewhere.example/token", http.StatusTemporaryRedirect),
				"https://elsewhere.example:443": originRecord,
			},
			allowed: []string{"https://reg.example:443", "https://auth.example:443"},
		},
		{
			name: "https registry names a plain-http loopback realm (finding 3)",
			host: "reg.example", cred: password,
			servers: map[string]http.HandlerFunc{
				"https://reg.example:443": originChallenge(`Bearer realm="http://localhost:5001/token",service="reg"`, originRecord),
				"http://localhost:5001":   originRecord,
			},
			allowed: []string{"https://reg.example:443"},
		},
	}
	for _, tc := range tests {
		secrets := []string{
			tc.cred.Password, tc.cred.IdentityToken,
			base64.StdEncoding.EncodeToString([]byte(tc.cred.Username + ":" + tc.cred.Password)),
		}
		secrets = deleteEmpty(secrets)
		t.Run("Login/"+tc.name, func(t *testing.T) {
			t.Parallel()
			w := newOriginWorld(t)
			for o, h := range tc.servers {
				w.add(o, h)
			}
			err := auth.Login(t.Context(), tc.host, tc.cred, w.transport())
			if leaks := w.leaks(tc.allowed, secrets); len(leaks) > 0 {
				t.Errorf("the credential reached %v", leaks)
			}
			var oe *transport.OriginError
			if !errors.As(err, &oe) {
				t.Fatalf("Login = %v, want an *transport.OriginError", err)
			}
			if oe.Reason == "" || oe.For == "" || oe.To == "" || !strings.Contains(err.Error(), oe.Reason) {
				t.Errorf("OriginError %+v does not say why", oe)
			}
			for _, s := range secrets {
				if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, oe), s) {
					t.Errorf("Login error %v shows a secret", err)
				}
			}
		})
		t.Run("RoundTripper/"+tc.name, func(t *testing.T) {
			t.Parallel()
			w := newOriginWorld(t)
			for o, h := range tc.servers {
				w.add(o, h)
			}
			scheme := "https://"
			if strings.HasPrefix(tc.host, "localhost") {
				scheme = "http://"
			}
			hc := &http.Client{Transport: auth.NewRoundTripper(tc.host, auth.Static(tc.host, tc.cred), w.transport())}
			for range 2 { // the second goes with what the first taught
				if resp, err := hc.Get(scheme + tc.host + "/v2/app/manifests/latest"); err == nil {
					resp.Body.Close()
				}
			}
			if leaks := w.leaks(tc.allowed, secrets); len(leaks) > 0 {
				t.Errorf("the credential reached %v", leaks)
			}
		})
		t.Run("Client/"+tc.name, func(t *testing.T) {
			t.Parallel()
			w := newOriginWorld(t)
			for o, h := range tc.servers {
				w.add(o, h)
			}
			c, err := remote.New(tc.host,
				remote.WithRoundTripper(w.transport()),
				remote.WithRetry(remote.RetryPolicy{MaxAttempts: 1}),
				remote.WithMiddleware(func(host string, next http.RoundTripper) http.RoundTripper {
					return auth.NewRoundTripper(host, auth.Static(host, tc.cred), next)
				}))
			if err != nil {
				t.Fatal(err)
			}
			_, _, _ = c.GetManifest(t.Context(), "app", "latest") // whatever the outcome
			if leaks := w.leaks(tc.allowed, secrets); len(leaks) > 0 {
				t.Errorf("the credential reached %v", leaks)
			}
		})
	}
}

func deleteEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && s != base64.StdEncoding.EncodeToString([]byte("alice:")) {
			out = append(out, s)
		}
	}
	return out
}
