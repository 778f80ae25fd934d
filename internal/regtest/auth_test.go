package regtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// reply is a response, read in full.
type reply struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, method, u string, body []byte, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// pushBlob uploads data to repository name, POST then PUT, and returns the
// first response that is not a success, or the PUT's.
func pushBlob(t *testing.T, host, name string, data []byte, headers ...string) reply {
	t.Helper()
	r := send(t, http.MethodPost, "http://"+host+"/v2/"+name+"/blobs/uploads/", nil, headers...)
	if r.status != http.StatusAccepted {
		return r
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatalf("Location %q: %v", r.header.Get("Location"), err)
	}
	if loc.Host == "" {
		loc.Scheme, loc.Host = "http", host
	}
	q := loc.Query()
	sum := sha256.Sum256(data)
	q.Set("digest", "sha256:"+hex.EncodeToString(sum[:]))
	loc.RawQuery = q.Encode()
	return send(t, http.MethodPut, loc.String(), data, append([]string{"Content-Type", "application/octet-stream"}, headers...)...)
}

func blobPath(data []byte) string {
	sum := sha256.Sum256(data)
	return "/blobs/sha256:" + hex.EncodeToString(sum[:])
}

func basic(user, password string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// TestLibtrustKeyID checks the key ID against the example of the
// distribution token spec (docs/spec/auth/jwt.md).
func TestLibtrustKeyID(t *testing.T) {
	t.Parallel()
	x, _ := base64.RawURLEncoding.DecodeString("m7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q")
	y, _ := base64.RawURLEncoding.DecodeString("dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc")
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	got, err := libtrustKeyID(pub)
	if want := "PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6"; err != nil || got != want {
		t.Errorf("libtrustKeyID(spec example) = %q, %v, want %q", got, err, want)
	}
	if _, err := libtrustKeyID("not a key"); err == nil {
		t.Errorf("libtrustKeyID(string) = nil error, want one")
	}
}

func TestDistributionBasic(t *testing.T) {
	t.Parallel()
	host := DistributionBasic(t, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	r := send(t, http.MethodGet, "http://"+host+"/v2/", nil)
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="regkit-test"` {
		t.Errorf("anonymous GET /v2/ = %d %q, want 401 Basic realm=\"regkit-test\"", r.status, r.header.Get("WWW-Authenticate"))
	}
	if r := send(t, http.MethodGet, "http://"+host+"/v2/", nil, basic("alice", "bob-pw")...); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v2/ with a wrong password = %d, want 401", r.status)
	}
	for _, user := range []string{"alice", "bob"} {
		if r := send(t, http.MethodGet, "http://"+host+"/v2/", nil, basic(user, user+"-pw")...); r.status != http.StatusOK {
			t.Errorf("GET /v2/ as %s = %d %s, want 200", user, r.status, r.body)
		}
	}
	data := []byte("basic layer")
	if r := pushBlob(t, host, "app", data); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous push = %d, want 401", r.status)
	}
	if r := pushBlob(t, host, "app", data, basic("alice", "alice-pw")...); r.status != http.StatusCreated {
		t.Fatalf("push as alice = %d %s, want 201", r.status, r.body)
	}
	if r := send(t, http.MethodGet, "http://"+host+"/v2/app"+blobPath(data), nil, basic("bob", "bob-pw")...); r.status != http.StatusOK || r.body != string(data) {
		t.Errorf("GET blob as bob = %d %q, want 200 %q", r.status, r.body, data)
	}
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// parseChallenge returns the parameters of a Bearer challenge.
func parseChallenge(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Fatalf("WWW-Authenticate = %q, want a Bearer challenge", h)
	}
	p := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(rest, -1) {
		p[m[1]] = m[2]
	}
	return p
}

// token asks realm for a token with GET, and fails the test unless it gets
// one.
func token(t *testing.T, realm string, q url.Values, headers ...string) string {
	t.Helper()
	r := send(t, http.MethodGet, realm+"?"+q.Encode(), nil, headers...)
	return decodeToken(t, r)
}

func decodeToken(t *testing.T, r reply) string {
	t.Helper()
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || r.status != http.StatusOK || tok.Token == "" || tok.Token != tok.AccessToken || tok.ExpiresIn != 300 {
		t.Fatalf("token server = %d %s (%v), want a token", r.status, r.body, err)
	}
	return tok.Token
}

func TestDistributionToken(t *testing.T) {
	t.Parallel()
	host := DistributionToken(t, map[string]string{"alice": "alice-pw"},
		Grant{User: "alice", Repository: "team/*", Actions: []string{"pull", "push"}},
		Grant{User: "", Repository: "public", Actions: []string{"pull"}})
	base := "http://" + host

	// Anonymous requests are challenged to the token server.
	r := send(t, http.MethodGet, base+"/v2/", nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("anonymous GET /v2/ = %d, want 401", r.status)
	}
	ch := parseChallenge(t, r.header.Get("WWW-Authenticate"))
	realm := ch["realm"]
	if !strings.HasPrefix(realm, "http://127.0.0.1:") || !strings.HasSuffix(realm, "/token") || ch["service"] != "regkit-test" {
		t.Fatalf("challenge = %v, want realm http://127.0.0.1:port/token and service regkit-test", ch)
	}
	r = send(t, http.MethodGet, base+"/v2/team/app/tags/list", nil)
	if ch := parseChallenge(t, r.header.Get("WWW-Authenticate")); ch["scope"] != "repository:team/app:pull" {
		t.Errorf("challenge for a tag list = %v, want scope repository:team/app:pull", ch)
	}

	// alice's token works for GET /v2/ and a push.
	q := url.Values{"service": {"regkit-test"}, "scope": {"repository:team/app:pull,push"}}
	tok := token(t, realm, q, basic("alice", "alice-pw")...)
	if r := send(t, http.MethodGet, base+"/v2/", nil, bearer(tok)...); r.status != http.StatusOK {
		t.Fatalf("GET /v2/ with a token = %d %s, want 200", r.status, r.body)
	}
	data := []byte("token layer")
	if r := pushBlob(t, host, "team/app", data, bearer(tok)...); r.status != http.StatusCreated {
		t.Fatalf("push with a token = %d %s, want 201", r.status, r.body)
	}
	if r := send(t, http.MethodHead, base+"/v2/team/app"+blobPath(data), nil, bearer(tok)...); r.status != http.StatusOK {
		t.Errorf("HEAD blob with a token = %d, want 200", r.status)
	}
	// Not for another repository.
	r = send(t, http.MethodHead, base+"/v2/team/web"+blobPath(data), nil, bearer(tok)...)
	if ch := parseChallenge(t, r.header.Get("WWW-Authenticate")); r.status != http.StatusUnauthorized || ch["error"] != "insufficient_scope" {
		t.Errorf("HEAD in another repository = %d %v, want 401 insufficient_scope", r.status, ch)
	}

	// The token server grants no more than the grants: alice may not push
	// to public, anonymous users may pull it.
	q.Set("scope", "repository:public:pull,push")
	tok = token(t, realm, q, basic("alice", "alice-pw")...)
	if r := pushBlob(t, host, "public", data, bearer(tok)...); r.status != http.StatusUnauthorized {
		t.Errorf("push to public = %d, want 401", r.status)
	}
	tok = token(t, realm, url.Values{"service": {"regkit-test"}, "scope": {"repository:public:pull"}})
	if r := send(t, http.MethodHead, base+"/v2/public"+blobPath(data), nil, bearer(tok)...); r.status != http.StatusNotFound {
		t.Errorf("anonymous HEAD in public = %d, want 404 (allowed, absent)", r.status)
	}

	// A token signed by another key is refused.
	other, err := newTokenServer(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.sign(map[string]any{"iss": tokenIssuer, "sub": "alice", "aud": tokenService, "exp": 1 << 40, "nbf": 0, "iat": 0, "jti": "x", "access": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	r = send(t, http.MethodGet, base+"/v2/", nil, bearer(forged)...)
	if ch := parseChallenge(t, r.header.Get("WWW-Authenticate")); r.status != http.StatusUnauthorized || ch["error"] != "invalid_token" {
		t.Errorf("GET /v2/ with a forged token = %d %v, want 401 invalid_token", r.status, ch)
	}

	// OAuth2: a password grant with a refresh token, then a refresh grant;
	// and the catalog.
	form := url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-pw"}, "client_id": {"regkit-test"},
		"service": {"regkit-test"}, "scope": {"registry:catalog:*"}, "access_type": {"offline"},
	}
	r = send(t, http.MethodPost, realm, []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	decodeToken(t, r)
	var withRefresh struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &withRefresh); err != nil || withRefresh.RefreshToken == "" {
		t.Fatalf("password grant = %s, want a refresh token", r.body)
	}
	refresh := url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {withRefresh.RefreshToken}, "client_id": {"regkit-test"},
		"service": {"regkit-test"}, "scope": {"registry:catalog:*"},
	}
	tok = decodeToken(t, send(t, http.MethodPost, realm, []byte(refresh.Encode()), "Content-Type", "application/x-www-form-urlencoded"))
	if r := send(t, http.MethodGet, base+"/v2/_catalog", nil, bearer(tok)...); r.status != http.StatusOK || !strings.Contains(r.body, `"team/app"`) {
		t.Errorf("GET /v2/_catalog = %d %s, want 200 listing team/app", r.status, r.body)
	}
}

func TestTokenServerErrors(t *testing.T) {
	t.Parallel()
	ts, err := newTokenServer(map[string]string{"alice": "pw"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ts)
	t.Cleanup(hs.Close)
	srv := hs.URL
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, body string
		headers                  []string
		want                     int
	}{
		{name: "wrong password", method: http.MethodGet, path: "/token", headers: basic("alice", "no"), want: http.StatusUnauthorized},
		{name: "wrong service", method: http.MethodGet, path: "/token?service=other", want: http.StatusBadRequest},
		{name: "malformed scope", method: http.MethodGet, path: "/token?scope=nonsense", want: http.StatusBadRequest},
		{name: "other path", method: http.MethodGet, path: "/other", want: http.StatusNotFound},
		{name: "method", method: http.MethodDelete, path: "/token", want: http.StatusMethodNotAllowed},
		{name: "no client_id", method: http.MethodPost, path: "/token", body: "grant_type=password&username=alice&password=pw", headers: []string{"Content-Type", form}, want: http.StatusBadRequest},
		{name: "post wrong password", method: http.MethodPost, path: "/token", body: "client_id=x&grant_type=password&username=alice&password=no", headers: []string{"Content-Type", form}, want: http.StatusUnauthorized},
		{name: "unknown refresh token", method: http.MethodPost, path: "/token", body: "client_id=x&grant_type=refresh_token&refresh_token=abc", headers: []string{"Content-Type", form}, want: http.StatusUnauthorized},
		{name: "unknown grant", method: http.MethodPost, path: "/token", body: "client_id=x&grant_type=magic", headers: []string{"Content-Type", form}, want: http.StatusBadRequest},
		{name: "malformed form", method: http.MethodPost, path: "/token", body: "a=%zz", headers: []string{"Content-Type", form}, want: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			if r := send(t, tc.method, srv+tc.path, body, tc.headers...); r.status != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.want)
			}
		})
	}
}

func TestTokenServerPermits(t *testing.T) {
	t.Parallel()
	open, err := newTokenServer(map[string]string{"alice": "pw"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	granted, err := newTokenServer(map[string]string{"alice": "pw", "bob": "pw"}, []Grant{
		{User: "alice", Repository: "team/*", Actions: []string{"pull"}},
		{User: "bob", Repository: "app", Actions: []string{"*"}},
		{Repository: "public", Actions: []string{"pull"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		ts            *tokenServer
		user          string
		typ, repo, do string
		want          bool
	}{
		{name: "no grants: users may do everything", ts: open, user: "alice", typ: "repository", repo: "x", do: "delete", want: true},
		{name: "no grants: anonymous nothing", ts: open, typ: "repository", repo: "x", do: "pull", want: false},
		{name: "catalog for users", ts: granted, user: "bob", typ: "registry", repo: "catalog", do: "*", want: true},
		{name: "catalog not for anonymous", ts: granted, typ: "registry", repo: "catalog", do: "*", want: false},
		{name: "unknown type", ts: open, user: "alice", typ: "widget", repo: "x", do: "pull", want: false},
		{name: "prefix", ts: granted, user: "alice", typ: "repository", repo: "team/a", do: "pull", want: true},
		{name: "prefix, other action", ts: granted, user: "alice", typ: "repository", repo: "team/a", do: "push", want: false},
		{name: "outside the prefix", ts: granted, user: "alice", typ: "repository", repo: "teamwork", do: "pull", want: false},
		{name: "star", ts: granted, user: "bob", typ: "repository", repo: "app", do: "delete", want: true},
		{name: "another user's grant", ts: granted, user: "bob", typ: "repository", repo: "team/a", do: "pull", want: false},
		{name: "anonymous grant for users", ts: granted, user: "alice", typ: "repository", repo: "public", do: "pull", want: true},
		{name: "anonymous grant", ts: granted, typ: "repository", repo: "public", do: "pull", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.ts.permits(tc.user, tc.user != "", tc.typ, tc.repo, tc.do); got != tc.want {
				t.Errorf("permits(%q, %s:%s:%s) = %v, want %v", tc.user, tc.typ, tc.repo, tc.do, got, tc.want)
			}
		})
	}
}
