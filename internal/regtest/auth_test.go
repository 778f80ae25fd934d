package regtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

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
	r := Send(t, http.MethodGet, "http://"+host+"/v2/", nil)
	if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != `Basic realm="regkit-test"` {
		t.Errorf("anonymous GET /v2/ = %d %q, want 401 Basic realm=\"regkit-test\"", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	if r := Send(t, http.MethodGet, "http://"+host+"/v2/", nil, basic("alice", "bob-pw")...); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /v2/ with a wrong password = %d, want 401", r.Status)
	}
	for _, user := range []string{"alice", "bob"} {
		if r := Send(t, http.MethodGet, "http://"+host+"/v2/", nil, basic(user, user+"-pw")...); r.Status != http.StatusOK {
			t.Errorf("GET /v2/ as %s = %d %s, want 200", user, r.Status, r.Body)
		}
	}
	data := []byte("basic layer")
	if r := PushBlob(t, "http://"+host, "app", data); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous push = %d, want 401", r.Status)
	}
	if r := PushBlob(t, "http://"+host, "app", data, basic("alice", "alice-pw")...); r.Status != http.StatusCreated {
		t.Fatalf("push as alice = %d %s, want 201", r.Status, r.Body)
	}
	if r := Send(t, http.MethodGet, "http://"+host+"/v2/app"+blobPath(data), nil, basic("bob", "bob-pw")...); r.Status != http.StatusOK || r.Body != string(data) {
		t.Errorf("GET blob as bob = %d %q, want 200 %q", r.Status, r.Body, data)
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
	r := Send(t, http.MethodGet, realm+"?"+q.Encode(), nil, headers...)
	return decodeToken(t, r)
}

func decodeToken(t *testing.T, r Reply) string {
	t.Helper()
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || r.Status != http.StatusOK || tok.Token == "" || tok.Token != tok.AccessToken || tok.ExpiresIn != 300 {
		t.Fatalf("token server = %d %s (%v), want a token", r.Status, r.Body, err)
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
	r := Send(t, http.MethodGet, base+"/v2/", nil)
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous GET /v2/ = %d, want 401", r.Status)
	}
	ch := parseChallenge(t, r.Header.Get("WWW-Authenticate"))
	realm := ch["realm"]
	if !strings.HasPrefix(realm, "http://127.0.0.1:") || !strings.HasSuffix(realm, "/token") || ch["service"] != "regkit-test" {
		t.Fatalf("challenge = %v, want realm http://127.0.0.1:port/token and service regkit-test", ch)
	}
	r = Send(t, http.MethodGet, base+"/v2/team/app/tags/list", nil)
	if ch := parseChallenge(t, r.Header.Get("WWW-Authenticate")); ch["scope"] != "repository:team/app:pull" {
		t.Errorf("challenge for a tag list = %v, want scope repository:team/app:pull", ch)
	}

	// alice's token works for GET /v2/ and a push.
	q := url.Values{"service": {"regkit-test"}, "scope": {"repository:team/app:pull,push"}}
	tok := token(t, realm, q, basic("alice", "alice-pw")...)
	if r := Send(t, http.MethodGet, base+"/v2/", nil, bearer(tok)...); r.Status != http.StatusOK {
		t.Fatalf("GET /v2/ with a token = %d %s, want 200", r.Status, r.Body)
	}
	data := []byte("token layer")
	if r := PushBlob(t, "http://"+host, "team/app", data, bearer(tok)...); r.Status != http.StatusCreated {
		t.Fatalf("push with a token = %d %s, want 201", r.Status, r.Body)
	}
	if r := Send(t, http.MethodHead, base+"/v2/team/app"+blobPath(data), nil, bearer(tok)...); r.Status != http.StatusOK {
		t.Errorf("HEAD blob with a token = %d, want 200", r.Status)
	}
	// Not for another repository.
	r = Send(t, http.MethodHead, base+"/v2/team/web"+blobPath(data), nil, bearer(tok)...)
	if ch := parseChallenge(t, r.Header.Get("WWW-Authenticate")); r.Status != http.StatusUnauthorized || ch["error"] != "insufficient_scope" {
		t.Errorf("HEAD in another repository = %d %v, want 401 insufficient_scope", r.Status, ch)
	}

	// The token server grants no more than the grants: alice may not push
	// to public, anonymous users may pull it.
	q.Set("scope", "repository:public:pull,push")
	tok = token(t, realm, q, basic("alice", "alice-pw")...)
	if r := PushBlob(t, "http://"+host, "public", data, bearer(tok)...); r.Status != http.StatusUnauthorized {
		t.Errorf("push to public = %d, want 401", r.Status)
	}
	tok = token(t, realm, url.Values{"service": {"regkit-test"}, "scope": {"repository:public:pull"}})
	if r := Send(t, http.MethodHead, base+"/v2/public"+blobPath(data), nil, bearer(tok)...); r.Status != http.StatusNotFound {
		t.Errorf("anonymous HEAD in public = %d, want 404 (allowed, absent)", r.Status)
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
	r = Send(t, http.MethodGet, base+"/v2/", nil, bearer(forged)...)
	if ch := parseChallenge(t, r.Header.Get("WWW-Authenticate")); r.Status != http.StatusUnauthorized || ch["error"] != "invalid_token" {
		t.Errorf("GET /v2/ with a forged token = %d %v, want 401 invalid_token", r.Status, ch)
	}

	// OAuth2: a password grant with a refresh token, then a refresh grant;
	// and the catalog.
	form := url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-pw"}, "client_id": {"regkit-test"},
		"service": {"regkit-test"}, "scope": {"registry:catalog:*"}, "access_type": {"offline"},
	}
	r = Send(t, http.MethodPost, realm, []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	decodeToken(t, r)
	var withRefresh struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(r.Body), &withRefresh); err != nil || withRefresh.RefreshToken == "" {
		t.Fatalf("password grant = %s, want a refresh token", r.Body)
	}
	refresh := url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {withRefresh.RefreshToken}, "client_id": {"regkit-test"},
		"service": {"regkit-test"}, "scope": {"registry:catalog:*"},
	}
	tok = decodeToken(t, Send(t, http.MethodPost, realm, []byte(refresh.Encode()), "Content-Type", "application/x-www-form-urlencoded"))
	if r := Send(t, http.MethodGet, base+"/v2/_catalog", nil, bearer(tok)...); r.Status != http.StatusOK || !strings.Contains(r.Body, `"team/app"`) {
		t.Errorf("GET /v2/_catalog = %d %s, want 200 listing team/app", r.Status, r.Body)
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
			if r := Send(t, tc.method, srv+tc.path, body, tc.headers...); r.Status != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
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
