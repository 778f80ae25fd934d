package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regkit/regkit/auth"
)

// authRegistry is a registry behind token auth, written apart from the
// package's own scope logic (so a bug cannot hide by being on both sides):
// it computes the access a request needs the way distribution does,
// challenges requests whose token lacks it, and runs the token server at
// /token. Settings are set before the first request.
type authRegistry struct {
	t    *testing.T
	srv  *httptest.Server
	host string
	next http.Handler

	basicOnly  bool            // challenge with Basic instead of Bearer
	user, pass string          // the account the servers accept
	anonymous  bool            // hand tokens to anonymous clients
	refresh    string          // refresh token the token server takes
	postStatus int             // if set, POST /token answers this status
	getStatus  int             // if set, GET /token answers this status
	expiresIn  int             // expires_in of tokens; 0 leaves it out
	deny       map[string]bool // actions never granted
	extra      map[string]string
	realm      string        // realm to send; default <server>/token
	tokenGate  chan struct{} // if set, token requests wait for it to close

	mu        sync.Mutex
	tokens    map[string]map[string][]string // token → resource → actions
	revoked   map[string]bool
	tokenReqs []rtTokenReq
	bodies    []string // bodies the handler behind auth read

	fetches, requests, challenges atomic.Int64
}

// rtTokenReq is what a token request asked for.
type rtTokenReq struct {
	method, grant, clientID, service, basicUser string
	scopes                                      []string
}

// newAuthRegistry starts a registry serving next (a handler that reads the
// body and answers 200 "ok" if nil).
func newAuthRegistry(t *testing.T, next http.Handler) *authRegistry {
	t.Helper()
	tr := &authRegistry{t: t, next: next, tokens: map[string]map[string][]string{}, revoked: map[string]bool{}}
	if tr.next == nil {
		tr.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			tr.mu.Lock()
			tr.bodies = append(tr.bodies, string(b))
			tr.mu.Unlock()
			fmt.Fprint(w, "ok")
		})
	}
	tr.srv = httptest.NewServer(tr)
	t.Cleanup(tr.srv.Close)
	tr.host = tr.srv.Listener.Addr().String()
	return tr
}

// url returns the URL of path on the registry.
func (tr *authRegistry) url(path string) string { return tr.srv.URL + path }

var repoPath = regexp.MustCompile(`^/v2/(.+?)/(manifests|blobs|tags|referrers)(/|$)`)

// needs returns the access r needs, as "resource:action" pairs.
func (tr *authRegistry) needs(r *http.Request) [][2]string {
	var out [][2]string
	if r.URL.Path == "/v2/_catalog" {
		return [][2]string{{"registry:catalog", "*"}}
	}
	m := repoPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return nil
	}
	res := "repository:" + m[1]
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		out = append(out, [2]string{res, "pull"})
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		out = append(out, [2]string{res, "pull"}, [2]string{res, "push"})
	case http.MethodDelete:
		out = append(out, [2]string{res, "delete"})
	}
	if from := r.URL.Query().Get("from"); from != "" && r.Method == http.MethodPost {
		out = append(out, [2]string{"repository:" + from, "pull"})
	}
	if e, ok := tr.extra[m[1]]; ok {
		out = append(out, [2]string{e, "pull"})
	}
	return out
}

func (tr *authRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		tr.serveToken(w, r)
		return
	}
	tr.requests.Add(1)
	if tr.basicOnly {
		if u, p, ok := r.BasicAuth(); ok && u == tr.user && p == tr.pass {
			tr.next.ServeHTTP(w, r)
			return
		}
		tr.challenges.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="test registry"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
		return
	}
	needs := tr.needs(r)
	tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tr.mu.Lock()
	grants, known := tr.tokens[tok]
	known = known && hasTok && !tr.revoked[tok]
	ok := known
	for _, n := range needs {
		if !slices.Contains(grants[n[0]], n[1]) && !slices.Contains(grants[n[0]], "*") {
			ok = false
		}
	}
	tr.mu.Unlock()
	if ok {
		tr.next.ServeHTTP(w, r)
		return
	}
	tr.challenges.Add(1)
	byRes := map[string][]string{}
	var order []string
	for _, n := range needs {
		if _, seen := byRes[n[0]]; !seen {
			order = append(order, n[0])
		}
		byRes[n[0]] = append(byRes[n[0]], n[1])
	}
	var scopes []string
	for _, res := range order {
		scopes = append(scopes, res+":"+strings.Join(byRes[res], ","))
	}
	realm := tr.realm
	if realm == "" {
		realm = tr.srv.URL + "/token"
	}
	h := fmt.Sprintf(`Bearer realm=%q,service="test-registry"`, realm)
	if len(scopes) > 0 {
		h += fmt.Sprintf(`,scope=%q`, strings.Join(scopes, " "))
	}
	switch {
	case known:
		h += `,error="insufficient_scope"`
	case hasTok:
		h += `,error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", h)
	http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
}

func (tr *authRegistry) serveToken(w http.ResponseWriter, r *http.Request) {
	tr.fetches.Add(1)
	if tr.tokenGate != nil {
		<-tr.tokenGate
	}
	req := rtTokenReq{method: r.Method}
	var ok bool
	switch r.Method {
	case http.MethodPost:
		if tr.postStatus != 0 {
			tr.record(req)
			w.WriteHeader(tr.postStatus)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		req.grant, req.clientID, req.service = r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"), r.PostForm.Get("service")
		req.scopes = strings.Fields(r.PostForm.Get("scope"))
		switch req.grant {
		case "password":
			ok = tr.user != "" && r.PostForm.Get("username") == tr.user && r.PostForm.Get("password") == tr.pass
		case "refresh_token":
			ok = tr.refresh != "" && r.PostForm.Get("refresh_token") == tr.refresh
		default:
			tr.record(req)
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
	case http.MethodGet:
		if tr.getStatus != 0 {
			tr.record(req)
			w.WriteHeader(tr.getStatus)
			return
		}
		q := r.URL.Query()
		req.service, req.scopes, req.clientID = q.Get("service"), q["scope"], q.Get("client_id")
		u, p, hasBasic := r.BasicAuth()
		req.basicUser = u
		ok = (hasBasic && tr.user != "" && u == tr.user && p == tr.pass) || (!hasBasic && tr.anonymous)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	tr.record(req)
	if !ok {
		http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
		return
	}
	grants := map[string][]string{}
	for _, s := range req.scopes {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			continue
		}
		for a := range strings.SplitSeq(s[i+1:], ",") {
			if !tr.deny[a] {
				grants[s[:i]] = append(grants[s[:i]], a)
			}
		}
	}
	tr.mu.Lock()
	tok := fmt.Sprintf("tok-%d", len(tr.tokens)+1)
	tr.tokens[tok] = grants
	tr.mu.Unlock()
	body := map[string]any{"token": tok}
	if r.Method == http.MethodPost {
		body = map[string]any{"access_token": tok}
	}
	if tr.expiresIn != 0 {
		body["expires_in"] = tr.expiresIn
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (tr *authRegistry) record(req rtTokenReq) {
	tr.mu.Lock()
	tr.tokenReqs = append(tr.tokenReqs, req)
	tr.mu.Unlock()
}

// lastTokenReq returns the last token request.
func (tr *authRegistry) lastTokenReq() rtTokenReq {
	tr.t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.tokenReqs) == 0 {
		tr.t.Fatal("no token request")
	}
	return tr.tokenReqs[len(tr.tokenReqs)-1]
}

// revokeAll makes every token issued so far invalid.
func (tr *authRegistry) revokeAll() {
	tr.mu.Lock()
	for tok := range tr.tokens {
		tr.revoked[tok] = true
	}
	tr.mu.Unlock()
}

// rtDo sends a request through rt and returns the status and body.
func rtDo(t *testing.T, rt http.RoundTripper, method, url string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// rtStore is a credential store that counts its calls.
type rtStore struct {
	mu    sync.Mutex
	cred  auth.Credential
	err   error
	calls int
	hosts []string
}

func (s *rtStore) Credential(_ context.Context, host string) (auth.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.hosts = append(s.hosts, host)
	return s.cred, s.err
}

func (s *rtStore) set(c auth.Credential) {
	s.mu.Lock()
	s.cred = c
	s.mu.Unlock()
}

func (s *rtStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
