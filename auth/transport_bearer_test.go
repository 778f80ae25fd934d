package auth_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/transport"
)

func TestBearerFlows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cred       auth.Credential
		setup      func(*authRegistry)
		wantGrants []string // methods and grants of the token requests
		wantUser   string   // Basic user of the last GET token request
	}{
		{
			name:       "anonymous",
			setup:      func(r *authRegistry) { r.anonymous = true },
			wantGrants: []string{"GET "},
		},
		{
			name:       "password: GET with Basic auth, as docker sends it",
			cred:       auth.Credential{Username: "alice", Password: "s3cret"},
			setup:      func(r *authRegistry) { r.user, r.pass = "alice", "s3cret" },
			wantGrants: []string{"GET "},
			wantUser:   "alice",
		},
		{
			name:       "password, realm without oauth2 (405): no POST tried",
			cred:       auth.Credential{Username: "alice", Password: "s3cret"},
			setup:      func(r *authRegistry) { r.user, r.pass, r.postStatus = "alice", "s3cret", 405 },
			wantGrants: []string{"GET "},
			wantUser:   "alice",
		},
		{
			name:       "refresh token and password, realm without oauth2 (404)",
			cred:       auth.Credential{Username: "alice", Password: "s3cret", IdentityToken: "refresh-xyz"},
			setup:      func(r *authRegistry) { r.user, r.pass, r.postStatus = "alice", "s3cret", 404 },
			wantGrants: []string{"POST ", "GET "},
			wantUser:   "alice",
		},
		{
			name:       "refresh token",
			cred:       auth.Credential{IdentityToken: "refresh-xyz"},
			setup:      func(r *authRegistry) { r.refresh = "refresh-xyz" },
			wantGrants: []string{"POST refresh_token"},
		},
		{
			name:       "registry token",
			cred:       auth.Credential{RegistryToken: "tok-1"},
			setup:      func(r *authRegistry) { r.tokens["tok-1"] = map[string][]string{"repository:app": {"pull", "push"}} },
			wantGrants: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, nil)
			tc.setup(reg)
			tr := auth.NewRoundTripper(reg.host, &rtStore{cred: tc.cred}, nil)
			for _, path := range []string{"/v2/app/manifests/latest", "/v2/app/blobs/sha256:abc", "/v2/app/tags/list"} {
				if code, body := rtDo(t, tr, "GET", reg.url(path), nil); code != 200 {
					t.Fatalf("GET %s = %d %q, want 200", path, code, body)
				}
			}
			var got []string
			for _, r := range reg.tokenReqs {
				got = append(got, r.method+" "+r.grant)
				if r.method == "POST" && r.grant != "" && r.clientID != "regkit" {
					t.Errorf("POST token request client_id = %q, want regkit", r.clientID)
				}
				if r.grant != "" || r.method == "GET" {
					if r.service != "test-registry" || !reflect.DeepEqual(r.scopes, []string{"repository:app:pull"}) {
						t.Errorf("token request service %q scopes %q, want test-registry [repository:app:pull]", r.service, r.scopes)
					}
				}
			}
			if !reflect.DeepEqual(got, tc.wantGrants) {
				t.Errorf("token requests = %q, want %q", got, tc.wantGrants)
			}
			if tc.wantUser != "" {
				if u := reg.lastTokenReq().basicUser; u != tc.wantUser {
					t.Errorf("GET token request Basic user = %q, want %q", u, tc.wantUser)
				}
			}
			// One 401 in all: the token serves the repository's later
			// requests up front.
			if got := reg.challenges.Load(); got != 1 {
				t.Errorf("challenges = %d, want 1", got)
			}
		})
	}
}

// TestOAuthFallbackIsRemembered asks for tokens for three repositories:
// a password never goes with POST, and an identity token goes with POST
// until the realm answers it 404 or 405, once.
func TestOAuthFallbackIsRemembered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cred   auth.Credential
		status int // of POST /token
		want   []string
	}{
		{"password", auth.Credential{Username: "alice", Password: "s3cret"}, http.StatusMethodNotAllowed, []string{"GET", "GET", "GET"}},
		{"identity token and password, 405", auth.Credential{Username: "alice", Password: "s3cret", IdentityToken: "refresh-xyz"}, http.StatusMethodNotAllowed, []string{"POST", "GET", "GET", "GET"}},
		{"identity token and password, 404", auth.Credential{Username: "alice", Password: "s3cret", IdentityToken: "refresh-xyz"}, http.StatusNotFound, []string{"POST", "GET", "GET", "GET"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, nil)
			reg.user, reg.pass, reg.postStatus = "alice", "s3cret", tc.status
			tr := auth.NewRoundTripper(reg.host, &rtStore{cred: tc.cred}, nil)
			for _, repo := range []string{"a", "b", "c"} {
				if code, _ := rtDo(t, tr, "GET", reg.url("/v2/"+repo+"/manifests/latest"), nil); code != 200 {
					t.Fatalf("GET %s = %d, want 200", repo, code)
				}
			}
			var methods []string
			for _, r := range reg.tokenReqs {
				methods = append(methods, r.method)
			}
			if !reflect.DeepEqual(methods, tc.want) {
				t.Errorf("token requests = %q, want %q (POST tried at most once per realm)", methods, tc.want)
			}
		})
	}
}

func TestTokenServerErrors(t *testing.T) {
	t.Parallel()
	const secret = "pa55-w0rd-XYZ"
	tests := []struct {
		name      string
		cred      auth.Credential
		setup     func(*authRegistry)
		want      error
		wantFetch int64
	}{
		{
			name:      "wrong password",
			cred:      auth.Credential{Username: "alice", Password: secret},
			setup:     func(r *authRegistry) { r.user, r.pass = "alice", "other" },
			want:      transport.ErrUnauthorized,
			wantFetch: 1,
		},
		{
			name:      "anonymous refused",
			setup:     func(r *authRegistry) {},
			want:      transport.ErrUnauthorized,
			wantFetch: 1,
		},
		{
			name:      "denied",
			cred:      auth.Credential{Username: "alice", Password: secret},
			setup:     func(r *authRegistry) { r.getStatus = 403 },
			want:      transport.ErrDenied,
			wantFetch: 1,
		},
		{
			name:      "refresh token refused",
			cred:      auth.Credential{IdentityToken: secret},
			setup:     func(r *authRegistry) { r.refresh = "other" },
			want:      transport.ErrUnauthorized,
			wantFetch: 1,
		},
		{
			name:      "identity token refused by a realm without oauth2, no password",
			cred:      auth.Credential{IdentityToken: secret},
			setup:     func(r *authRegistry) { r.postStatus = 405 },
			wantFetch: 1,
		},
		{
			name:      "identity token, server error: no fallback",
			cred:      auth.Credential{Username: "alice", Password: secret, IdentityToken: secret},
			setup:     func(r *authRegistry) { r.postStatus = 500 },
			wantFetch: 1,
		},
		{
			name:      "rate limited",
			setup:     func(r *authRegistry) { r.getStatus = 429 },
			want:      transport.ErrTooManyRequests,
			wantFetch: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, nil)
			tc.setup(reg)
			tr := auth.NewRoundTripper(reg.host, &rtStore{cred: tc.cred}, nil)
			req, _ := http.NewRequestWithContext(t.Context(), "GET", reg.url("/v2/app/manifests/latest"), nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("RoundTrip = %d, want an error", resp.StatusCode)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("RoundTrip error = %v, want one matching %v", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("RoundTrip error %q holds the secret", err)
			}
			if !strings.Contains(err.Error(), "/token") {
				t.Errorf("RoundTrip error %q does not name the realm", err)
			}
			if got := reg.fetches.Load(); got != tc.wantFetch {
				t.Errorf("token requests = %d, want %d", got, tc.wantFetch)
			}
		})
	}
}

func TestCredentialStoreError(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	boom := errors.New("keychain locked")
	tr := auth.NewRoundTripper(reg.host, &rtStore{err: boom}, nil)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", reg.url("/v2/app/manifests/latest"), nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, boom) {
		t.Errorf("RoundTrip error = %v, want the store's", err)
	}
	// Basic too.
	reg2 := newAuthRegistry(t, nil)
	reg2.basicOnly = true
	tr2 := auth.NewRoundTripper(reg2.host, &rtStore{err: boom}, nil)
	req2, _ := http.NewRequestWithContext(t.Context(), "GET", reg2.url("/v2/app/manifests/latest"), nil)
	if _, err := tr2.RoundTrip(req2); !errors.Is(err, boom) {
		t.Errorf("RoundTrip (basic) error = %v, want the store's", err)
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn int
		steps     []time.Duration // clock offsets of successive requests
		want      []int64         // token fetches after each request
	}{
		// 300s: dropped 30s early.
		{"server lifetime", 300, []time.Duration{0, 200 * time.Second, 269 * time.Second, 271 * time.Second, 300 * time.Second}, []int64{1, 1, 1, 2, 2}},
		// Absent: 60s, dropped 12s early.
		{"default lifetime", 0, []time.Duration{0, 47 * time.Second, 49 * time.Second}, []int64{1, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, nil)
			reg.anonymous, reg.expiresIn = true, tc.expiresIn
			tr := auth.NewRoundTripper(reg.host, nil, nil)
			var mu sync.Mutex
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			now := start
			auth.SetTransportClock(tr, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
			for i, off := range tc.steps {
				mu.Lock()
				now = start.Add(off)
				mu.Unlock()
				if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 {
					t.Fatalf("GET at +%v = %d", off, code)
				}
				if got := reg.fetches.Load(); got != tc.want[i] {
					t.Errorf("token fetches after the request at +%v = %d, want %d", off, got, tc.want[i])
				}
			}
			if got := reg.challenges.Load(); got != 1 {
				t.Errorf("challenges = %d, want 1 (refreshed tokens go up front)", got)
			}
		})
	}
}

func TestConcurrentRequestsShareOneFetch(t *testing.T) {
	t.Parallel()
	const n = 50
	tests := []struct {
		name   string
		warmUp bool // learn the realm first, with another repository
	}{
		// Cold: one request probes; the others wait for it, then use its
		// token.
		{"first contact", false},
		// Warm: all need a token nobody has; they share one fetch.
		{"realm known", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, nil)
			reg.anonymous = true
			tr := auth.NewRoundTripper(reg.host, nil, nil)
			if tc.warmUp {
				rtDo(t, tr, "GET", reg.url("/v2/warmup/manifests/latest"), nil)
			}
			before, beforeReqs := reg.fetches.Load(), reg.requests.Load()
			reg.tokenGate = make(chan struct{})
			go func() {
				// Hold the token back a while, so that the requests pile
				// up behind the fetch.
				for reg.fetches.Load() == before {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond)
				close(reg.tokenGate)
			}()
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() {
					req, _ := http.NewRequestWithContext(t.Context(), "GET", reg.url("/v2/app/manifests/latest"), nil)
					resp, err := tr.RoundTrip(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- errors.New(resp.Status)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := reg.fetches.Load() - before; got != 1 {
				t.Errorf("token fetches = %d, want 1", got)
			}
			if got := reg.challenges.Load(); got != 1 {
				t.Errorf("challenges = %d, want 1", got)
			}
			want := int64(n) // each sent once, with a token
			if !tc.warmUp {
				want++ // and the probe's 401
			}
			if got := reg.requests.Load() - beforeReqs; got != want {
				t.Errorf("registry requests = %d, want %d", got, want)
			}
		})
	}
}

func TestInsufficientScope(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	reg.extra = map[string]string{"special": "repository:other"} // needs more than its path says
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 {
		t.Fatalf("GET app = %d", code)
	}
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/special/manifests/latest"), nil); code != 200 {
		t.Fatalf("GET special = %d, want 200 after asking for the challenge's scope", code)
	}
	if got, want := reg.lastTokenReq().scopes, []string{"repository:special:pull", "repository:other:pull"}; !reflect.DeepEqual(got, want) {
		t.Errorf("last token request scopes = %q, want %q", got, want)
	}
	// app: 401 + fetch; special: fetch up front, 401 insufficient_scope,
	// fetch with the wider scope.
	if f, c := reg.fetches.Load(), reg.challenges.Load(); f != 3 || c != 2 {
		t.Errorf("fetches, challenges = %d, %d, want 3, 2", f, c)
	}
	// The wider token now serves up front.
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/special/tags/list"), nil); code != 200 || reg.fetches.Load() != 3 {
		t.Errorf("GET special again = %d with %d fetches, want 200 with 3", code, reg.fetches.Load())
	}
}

func TestRefusedScopeReplaysOnce(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous, reg.deny = true, map[string]bool{"push": true}
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	code, _ := rtDo(t, tr, "PUT", reg.url("/v2/app/manifests/latest"), strings.NewReader("{}"))
	if code != http.StatusUnauthorized {
		t.Fatalf("PUT = %d, want 401", code)
	}
	if got := reg.requests.Load(); got != 2 {
		t.Errorf("registry saw %d requests, want 2 (one replay)", got)
	}
	// Up front with the (insufficient) token, refused, one fresh token,
	// one replay: never a loop.
	code, _ = rtDo(t, tr, "PUT", reg.url("/v2/app/manifests/latest"), strings.NewReader("{}"))
	if code != http.StatusUnauthorized || reg.requests.Load() != 4 {
		t.Errorf("second PUT = %d after %d requests, want 401 after 4", code, reg.requests.Load())
	}
}

func TestRevokedTokenIsReplaced(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil)
	reg.revokeAll()
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 {
		t.Fatalf("GET after revocation = %d, want 200", code)
	}
	if got := reg.fetches.Load(); got != 2 {
		t.Errorf("token fetches = %d, want 2", got)
	}
}
