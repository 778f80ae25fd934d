package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regkit/regkit/transport"
)

// loginTestConfig is the behaviour of a loginTestServer.
type loginTestConfig struct {
	// ping answers GET /v2/ when set, whatever the request.
	ping func(w http.ResponseWriter, r *http.Request)
	// challenge is the WWW-Authenticate of a 401 from /v2/; "{realm}" is
	// replaced by the token URL.
	challenge string
	// basic is the user:password /v2/ accepts with Basic authentication.
	basic string
	// bearer is the token /v2/ accepts.
	bearer string
	// denied makes /v2/ answer 403 to an accepted credential.
	denied bool
	// token answers /token when set.
	token func(w http.ResponseWriter, r *http.Request)
}

// loginTestServer is a registry with a token service at /token.
type loginTestServer struct {
	loginTestConfig
	srv      *httptest.Server
	mu       sync.Mutex
	requests []string // "METHOD path?query"
}

func loginTestNew(t *testing.T, cfg loginTestConfig) *loginTestServer {
	t.Helper()
	s := &loginTestServer{loginTestConfig: cfg}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *loginTestServer) host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

func (s *loginTestServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *loginTestServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	s.requests = append(s.requests, line)
	s.mu.Unlock()
	switch r.URL.Path {
	case "/token":
		s.token(w, r)
		return
	case "/v2/":
	default:
		http.NotFound(w, r)
		return
	}
	if s.ping != nil {
		s.ping(w, r)
		return
	}
	ok := false
	if u, p, isBasic := r.BasicAuth(); isBasic && s.basic != "" && u+":"+p == s.basic {
		ok = true
	}
	if tok, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); isBearer && s.bearer != "" && tok == s.bearer {
		ok = true
	}
	switch {
	case ok && s.denied:
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"errors":[{"code":"DENIED","message":"account disabled"}]}`)
	case ok:
		_, _ = io.WriteString(w, "{}")
	default:
		if s.challenge != "" {
			w.Header().Set("WWW-Authenticate", strings.ReplaceAll(s.challenge, "{realm}", s.srv.URL+"/token"))
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	}
}

// loginTestTokens is a token service: Basic alice:pa55word gets
// "tok-alice", the refresh token "refresh-s3cret" gets "tok-refresh",
// no credential gets "tok-anon"; other credentials get 401 (400
// invalid_grant for refresh tokens). It checks the service parameter.
func loginTestTokens(t *testing.T, field string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		send := func(tok string) {
			_ = json.NewEncoder(w).Encode(map[string]string{field: tok})
		}
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			if q.Get("service") != "registry.test" {
				t.Errorf("token request service = %q, want registry.test", q.Get("service"))
			}
			u, p, ok := r.BasicAuth()
			switch {
			case !ok:
				send("tok-anon")
			case u == "alice" && p == "pa55word" && q.Get("account") == "alice":
				send("tok-alice")
			default:
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"details":"incorrect username or password"}`)
			}
		case http.MethodPost:
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			f := r.PostForm
			if f.Get("grant_type") != "refresh_token" || f.Get("client_id") == "" || f.Get("service") != "registry.test" {
				t.Errorf("token POST form = %v, want a refresh_token grant with client_id and service", f)
			}
			if f.Get("refresh_token") != "refresh-s3cret" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token expired"}`)
				return
			}
			send("tok-refresh")
		}
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	alice := Credential{Username: "alice", Password: "pa55word"}
	bearer := `Bearer realm="{realm}",service="registry.test"`
	tests := []struct {
		name     string
		server   loginTestConfig
		tokens   string // token field name; "" for the default "token"
		c        Credential
		wantErr  error // nil, transport.ErrUnauthorized, ErrDenied, or errLoginOther
		errHas   string
		wantReqs int // requests the server saw, 0 to skip the check
	}{
		{name: "open registry", server: loginTestConfig{ping: func(w http.ResponseWriter, _ *http.Request) {}}, c: Credential{}, wantReqs: 1},
		{name: "basic accepted", server: loginTestConfig{challenge: `Basic realm="test"`, basic: "alice:pa55word"}, c: alice, wantReqs: 2},
		{name: "basic wrong password", server: loginTestConfig{challenge: `Basic realm="test"`, basic: "alice:other"}, c: alice,
			wantErr: transport.ErrUnauthorized, errHas: "authentication required"},
		{name: "basic without a username", server: loginTestConfig{challenge: `Basic realm="test"`, basic: "alice:pa55word"},
			c: Credential{IdentityToken: "refresh-s3cret"}, wantErr: transport.ErrUnauthorized, errHas: "asks for a username and password"},
		{name: "bearer with password", server: loginTestConfig{challenge: bearer, bearer: "tok-alice"}, c: alice, wantReqs: 3},
		{name: "bearer access_token field", server: loginTestConfig{challenge: bearer, bearer: "tok-alice"}, tokens: "access_token", c: alice},
		{name: "bearer wrong password", server: loginTestConfig{challenge: bearer, bearer: "tok-alice"},
			c: Credential{Username: "alice", Password: "wrong-pa55word"}, wantErr: transport.ErrUnauthorized, errHas: "incorrect username or password"},
		{name: "bearer identity token", server: loginTestConfig{challenge: bearer, bearer: "tok-refresh"},
			c: Credential{Username: "alice", IdentityToken: "refresh-s3cret"}},
		{name: "bearer identity token rejected", server: loginTestConfig{challenge: bearer, bearer: "tok-refresh"},
			c: Credential{IdentityToken: "stale-refresh-s3cret"}, wantErr: transport.ErrUnauthorized, errHas: "refresh token expired"},
		{name: "bearer registry token", server: loginTestConfig{challenge: bearer, bearer: "bearer-s3cret"},
			c: Credential{RegistryToken: "bearer-s3cret"}, wantReqs: 2},
		{name: "bearer registry token rejected", server: loginTestConfig{challenge: bearer, bearer: "tok-alice"},
			c: Credential{RegistryToken: "bearer-s3cret"}, wantErr: transport.ErrUnauthorized},
		{name: "bearer anonymous not enough", server: loginTestConfig{challenge: bearer, bearer: "tok-alice"}, c: Credential{},
			wantErr: transport.ErrUnauthorized},
		{name: "bearer preferred over basic", server: loginTestConfig{challenge: `Basic realm="x", ` + bearer, bearer: "tok-alice"}, c: alice},
		{name: "denied at once", server: loginTestConfig{ping: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }},
			c: alice, wantErr: transport.ErrDenied},
		{name: "denied after the credential", server: loginTestConfig{challenge: `Basic realm="test"`, basic: "alice:pa55word", denied: true},
			c: alice, wantErr: transport.ErrDenied, errHas: "account disabled"},
		{name: "token service denies", server: loginTestConfig{challenge: bearer, token: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		}}, c: alice, wantErr: transport.ErrDenied},
		{name: "401 without a challenge", server: loginTestConfig{basic: "alice:pa55word"}, c: alice,
			wantErr: transport.ErrUnauthorized, errHas: "no Basic or Bearer challenge"},
		{name: "unknown challenge", server: loginTestConfig{challenge: `Negotiate abc==`}, c: alice,
			wantErr: transport.ErrUnauthorized, errHas: "no Basic or Bearer challenge"},
		{name: "too many requests", server: loginTestConfig{ping: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }},
			c: alice, wantErr: transport.ErrTooManyRequests},
		{name: "server error", server: loginTestConfig{ping: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
			c: alice, wantErr: errLoginTestOther, errHas: "500 Internal Server Error"},
		{name: "no registry API", server: loginTestConfig{ping: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }},
			c: alice, wantErr: errLoginTestOther, errHas: "404"},
		{name: "token answer without a token", server: loginTestConfig{challenge: bearer, token: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"expires_in":60}`)
		}}, c: alice, wantErr: errLoginTestOther, errHas: "holds no token"},
		{name: "relative realm", server: loginTestConfig{challenge: `Bearer realm="/token",service="registry.test"`}, c: alice,
			wantErr: errLoginTestOther, errHas: "no usable realm"},
		{name: "no realm", server: loginTestConfig{challenge: `Bearer service="registry.test"`}, c: alice,
			wantErr: errLoginTestOther, errHas: "no usable realm"},
		// Login reads challenges with ParseChallenges, as RoundTripper does:
		// what RoundTripper refuses, Login does not guess at.
		{name: "realm given twice", server: loginTestConfig{challenge: `Bearer realm="{realm}",service="registry.test",realm="{realm}-other"`, bearer: "tok-alice"},
			c: alice, wantErr: transport.ErrUnauthorized, errHas: `parameter "realm" repeated with a different value`, wantReqs: 1},
		{name: "unterminated quoted realm", server: loginTestConfig{challenge: `Basic realm="test`, basic: "alice:pa55word"}, c: alice,
			wantErr: transport.ErrUnauthorized, errHas: "no usable Basic or Bearer challenge: malformed www-authenticate header: unterminated quoted string", wantReqs: 1},
		{name: "token68 is not a parameter", server: loginTestConfig{challenge: `Basic realm="test", Negotiate abc==`, basic: "alice:pa55word"}, c: alice, wantReqs: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.server
			if s.token == nil {
				field := tc.tokens
				if field == "" {
					field = "token"
				}
				s.token = loginTestTokens(t, field)
			}
			srv := loginTestNew(t, s)
			err := Login(t.Context(), srv.host(), tc.c, nil)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Login = %v, want nil", err)
			case tc.wantErr == errLoginTestOther:
				if err == nil || errors.Is(err, transport.ErrUnauthorized) || errors.Is(err, transport.ErrDenied) {
					t.Fatalf("Login = %v, want an error other than unauthorized or denied", err)
				}
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("Login = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.errHas) || !strings.HasPrefix(err.Error(), "auth: login "+srv.host()+": ") {
					t.Errorf("Login error %q does not start with the host or lacks %q", err, tc.errHas)
				}
				credAssertNoSecret(t, "Login error", err.Error())
				credAssertNoSecret(t, "Login error", strings.ReplaceAll(loginTestFmtAll(err), "stale-", ""))
			}
			if tc.wantReqs != 0 {
				if got := srv.log(); len(got) != tc.wantReqs {
					t.Errorf("server saw %v, want %d requests", got, tc.wantReqs)
				}
			}
		})
	}
}

// errLoginTestOther stands for any error but the sentinels in TestLogin.
var errLoginTestOther = errors.New("other")

// loginTestFmtAll returns err formatted with every usual verb.
func loginTestFmtAll(err error) string {
	var b strings.Builder
	for _, v := range []string{"%v", "%+v", "%#v", "%s"} {
		b.WriteString(strings.ReplaceAll(fmt.Sprintf(v, err), "\n", " "))
	}
	return b.String()
}

func TestLoginTokenRequest(t *testing.T) {
	t.Parallel()
	s := loginTestNew(t, loginTestConfig{challenge: `Bearer realm="{realm}?existing=1",service="registry.test",scope="registry:catalog:*"`,
		bearer: "tok-alice", token: loginTestTokens(t, "token")})
	if err := Login(t.Context(), s.host(), Credential{Username: "alice", Password: "pa55word"}, nil); err != nil {
		t.Fatal(err)
	}
	reqs := s.log()
	if len(reqs) != 3 {
		t.Fatalf("requests = %v, want ping, token, ping", reqs)
	}
	u, err := url.Parse(strings.TrimPrefix(reqs[1], "GET "))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/token" || q.Get("existing") != "1" || q.Get("account") != "alice" || q.Get("scope") != "registry:catalog:*" || q.Get("service") != "registry.test" {
		t.Errorf("token request = %s, want /token with existing=1, account, scope and service", reqs[1])
	}
	for _, r := range reqs {
		if strings.Contains(r, "pa55word") {
			t.Errorf("request %s holds the password", r)
		}
	}
}

func TestLoginPlainRealmFromTLS(t *testing.T) {
	t.Parallel()
	var tokenHit atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { tokenHit.Store(true) }))
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+plain.URL+`/token",service="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(tlsSrv.Close)
	err := Login(t.Context(), tlsSrv.URL, Credential{Username: "alice", Password: "pa55word"}, tlsSrv.Client().Transport)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Errorf("Login = %v, want a refusal of the plain HTTP realm", err)
	}
	if tokenHit.Load() {
		t.Error("the plain HTTP realm was sent a request")
	}
	// The same registry over TLS, open: the explicit https:// is honoured.
	open := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(open.Close)
	if err := Login(t.Context(), open.URL, Credential{}, open.Client().Transport); err != nil {
		t.Errorf("Login(https open registry) = %v", err)
	}
}

func TestLoginTransportErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	if err := Login(t.Context(), host, Credential{Username: "a", Password: "pa55word"}, nil); err == nil {
		t.Error("Login(closed server) = nil error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Login(ctx, "127.0.0.1:1", Credential{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Login(canceled) = %v, want context.Canceled", err)
	}
	// A round tripper that fails.
	rt := loginTestRT(func(*http.Request) (*http.Response, error) { return nil, errors.New("no network") })
	if err := Login(t.Context(), "ghcr.io", Credential{}, rt); err == nil || !strings.Contains(err.Error(), "GET https://ghcr.io/v2/: no network") {
		t.Errorf("Login(failing round tripper) = %v, want the request and its error", err)
	}
	// A body that breaks.
	rt = loginTestRT(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(loginTestBrokenReader{}), Header: http.Header{}, Request: r}, nil
	})
	if err := Login(t.Context(), "ghcr.io", Credential{}, rt); err == nil || !strings.Contains(err.Error(), "reading the answer") {
		t.Errorf("Login(broken body) = %v, want a read error", err)
	}
}

type loginTestRT func(*http.Request) (*http.Response, error)

func (f loginTestRT) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type loginTestBrokenReader struct{}

func (loginTestBrokenReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestLoginBase(t *testing.T) {
	t.Parallel()
	tests := []struct{ host, want string }{
		{host: "ghcr.io", want: "https://ghcr.io/v2/"},
		{host: "docker.io", want: "https://registry-1.docker.io/v2/"},
		{host: "index.docker.io", want: "https://registry-1.docker.io/v2/"},
		{host: "localhost:5000", want: "http://localhost:5000/v2/"},
		{host: "LOCALHOST", want: "http://LOCALHOST/v2/"},
		{host: "127.0.0.1:5000", want: "http://127.0.0.1:5000/v2/"},
		{host: "127.9.9.9", want: "http://127.9.9.9/v2/"},
		{host: "[::1]:5000", want: "http://[::1]:5000/v2/"},
		{host: "registry.internal:5000", want: "https://registry.internal:5000/v2/"},
		{host: "http://registry.internal:5000", want: "http://registry.internal:5000/v2/"},
		{host: "HTTPS://localhost:5000", want: "https://localhost:5000/v2/"},
		{host: "ghcr.io/team", want: ""},
		{host: "ftp://ghcr.io", want: ""},
		{host: "", want: ""},
		{host: "https://", want: ""},
		{host: "user@ghcr.io", want: ""},
		{host: "ghcr.io:port", want: ""},
	}
	for _, tc := range tests {
		u, err := loginBase(tc.host)
		got := ""
		if err == nil {
			got = u.String()
		}
		if got != tc.want {
			t.Errorf("loginBase(%q) = %q, %v; want %q", tc.host, got, err, tc.want)
		}
		if tc.want == "" {
			if err := Login(t.Context(), tc.host, Credential{}, loginTestRT(func(*http.Request) (*http.Response, error) {
				t.Errorf("Login(%q) sent a request", tc.host)
				return nil, errors.New("no")
			})); err == nil {
				t.Errorf("Login(%q) = nil, want an error", tc.host)
			}
		}
	}
}
