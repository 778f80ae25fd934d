package fake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/internal/regtest"
)

// tokenReply is the token endpoint's JSON answer.
type tokenReply struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// getToken asks the token endpoint for scopes with GET, as user (anonymous
// when user is empty), and fails the test unless it answers 200.
func getToken(t *testing.T, srv *Server, user, password string, query url.Values) tokenReply {
	t.Helper()
	var hdr []string
	if user != "" {
		hdr = basicHeader(user, password)
	}
	r := regtest.Send(t, http.MethodGet, srv.URL+"/token?"+query.Encode(), nil, hdr...)
	return decodeToken(t, r)
}

// postToken posts form to the token endpoint and fails the test unless it
// answers 200.
func postToken(t *testing.T, srv *Server, form url.Values) tokenReply {
	t.Helper()
	return decodeToken(t, regtest.Send(t, http.MethodPost, srv.URL+"/token", []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded"))
}

func decodeToken(t *testing.T, r regtest.Reply) tokenReply {
	t.Helper()
	var tr tokenReply
	if r.Status != http.StatusOK {
		t.Fatalf("token endpoint = %d %s, want 200", r.Status, r.Body)
	}
	if err := json.Unmarshal([]byte(r.Body), &tr); err != nil || tr.Token == "" || tr.Token != tr.AccessToken {
		t.Fatalf("token endpoint answered %s (%v), want token and access_token", r.Body, err)
	}
	return tr
}

func scopes(s ...string) url.Values {
	return url.Values{"service": {"regkit-fake"}, "scope": s}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestBearerChallenge(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}))
	d := digest.FromString("x").String()
	realm := `Bearer realm="` + srv.URL + `/token",service="regkit-fake"`
	tests := []struct {
		name         string
		method, path string
		headers      []string
		want         string
	}{
		{name: "version check", method: http.MethodGet, path: "/v2/", want: realm},
		{name: "pull", method: http.MethodGet, path: "/v2/team/app/manifests/latest", want: realm + `,scope="repository:team/app:pull"`},
		{name: "push", method: http.MethodPut, path: "/v2/app/manifests/latest", want: realm + `,scope="repository:app:pull,push"`},
		{name: "delete", method: http.MethodDelete, path: "/v2/app/blobs/" + d, want: realm + `,scope="repository:app:delete"`},
		{name: "catalog", method: http.MethodGet, path: "/v2/_catalog", want: realm + `,scope="registry:catalog:*"`},
		{name: "mount", method: http.MethodPost, path: "/v2/app/blobs/uploads/?mount=" + d + "&from=base", want: realm + `,scope="repository:app:pull,push repository:base:pull"`},
		{name: "basic credentials", method: http.MethodGet, path: "/v2/", headers: basicHeader("alice", "pw"), want: realm},
		{name: "empty bearer", method: http.MethodGet, path: "/v2/", headers: []string{"Authorization", "Bearer "}, want: realm},
		{name: "garbage token", method: http.MethodGet, path: "/v2/app/tags/list", headers: bearer("abc"), want: realm + `,scope="repository:app:pull",error="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := regtest.Send(t, tc.method, srv.URL+tc.path, nil, tc.headers...)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("%s %s = %d, want 401", tc.method, tc.path, r.Status)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != tc.want {
				t.Errorf("WWW-Authenticate = %s\nwant %s", got, tc.want)
			}
			if got := errorCode(t, r.Body); got != "UNAUTHORIZED" {
				t.Errorf("error code = %s, want UNAUTHORIZED", got)
			}
		})
	}
}

func TestBearerPasswordFlow(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}))
	tr := getToken(t, srv, "alice", "pw", scopes("repository:app:pull,push"))
	if tr.ExpiresIn != 300 || tr.RefreshToken != "" {
		t.Errorf("token = expires_in %d, refresh_token %q; want 300 and none", tr.ExpiresIn, tr.RefreshToken)
	}
	if _, err := time.Parse(time.RFC3339, tr.IssuedAt); err != nil {
		t.Errorf("issued_at %q: %v", tr.IssuedAt, err)
	}
	if r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil, bearer(tr.Token)...); r.Status != http.StatusOK {
		t.Errorf("GET /v2/ with a token = %d, want 200", r.Status)
	}
	data := []byte("layer")
	if r := regtest.PushBlob(t, srv.URL, "app", data, bearer(tr.Token)...); r.Status != http.StatusCreated {
		t.Fatalf("push with a token = %d %s, want 201", r.Status, r.Body)
	}
	r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/app/blobs/"+digest.FromBytes(data).String(), nil, bearer(tr.Token)...)
	if r.Status != http.StatusOK || r.Body != "layer" {
		t.Errorf("GET blob = %d %q, want 200 layer", r.Status, r.Body)
	}
	// The token is for app only.
	r = regtest.Send(t, http.MethodGet, srv.URL+"/v2/other/tags/list", nil, bearer(tr.Token)...)
	if want := `,scope="repository:other:pull",error="insufficient_scope"`; r.Status != http.StatusUnauthorized || !strings.HasSuffix(r.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("GET other repository = %d %s, want 401 ending in %s", r.Status, r.Header.Get("WWW-Authenticate"), want)
	}
	// The catalog needs its own scope.
	r = regtest.Send(t, http.MethodGet, srv.URL+"/v2/_catalog", nil, bearer(tr.Token)...)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("GET /v2/_catalog with a repository token = %d, want 401", r.Status)
	}
	cat := getToken(t, srv, "alice", "pw", scopes("registry:catalog:*"))
	r = regtest.Send(t, http.MethodGet, srv.URL+"/v2/_catalog", nil, bearer(cat.Token)...)
	if r.Status != http.StatusOK || r.Body != `{"repositories":["app"]}` {
		t.Errorf("GET /v2/_catalog = %d %s, want app", r.Status, r.Body)
	}
}

func TestBearerInsufficientScope(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}))
	tr := getToken(t, srv, "alice", "pw", scopes("repository:app:pull"))
	r := regtest.PushBlob(t, srv.URL, "app", []byte("x"), bearer(tr.Token)...)
	want := `Bearer realm="` + srv.URL + `/token",service="regkit-fake",scope="repository:app:pull,push",error="insufficient_scope"`
	if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != want {
		t.Errorf("push with a pull token = %d %s\nwant 401 %s", r.Status, r.Header.Get("WWW-Authenticate"), want)
	}
}

func TestBearerAnonymous(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "pw"}
	closed := Serve(t, WithTokenAuth(users))
	public := Serve(t, WithTokenAuth(users), WithGrant("", "library/*", "pull"))
	blob := "/v2/library/ubuntu/blobs/" + digest.FromString("x").String()

	// Without anonymous grants an anonymous token grants nothing, not even
	// the version check.
	tr := getToken(t, closed, "", "", scopes("repository:library/ubuntu:pull"))
	if r := regtest.Send(t, http.MethodGet, closed.URL+"/v2/", nil, bearer(tr.Token)...); r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("GET /v2/ with an anonymous token = %d %s, want 401 insufficient_scope", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	if r := regtest.Send(t, http.MethodHead, closed.URL+blob, nil, bearer(tr.Token)...); r.Status != http.StatusUnauthorized {
		t.Errorf("HEAD blob with an anonymous token = %d, want 401", r.Status)
	}

	tr = getToken(t, public, "", "", scopes("repository:library/ubuntu:pull,push", "registry:catalog:*"))
	if r := regtest.Send(t, http.MethodGet, public.URL+"/v2/", nil, bearer(tr.Token)...); r.Status != http.StatusOK {
		t.Errorf("GET /v2/ with an anonymous token = %d, want 200", r.Status)
	}
	if r := regtest.Send(t, http.MethodHead, public.URL+blob, nil, bearer(tr.Token)...); r.Status != http.StatusNotFound {
		t.Errorf("HEAD blob with an anonymous token = %d, want 404 (allowed, absent)", r.Status)
	}
	if r := regtest.PushBlob(t, public.URL, "library/ubuntu", []byte("x"), bearer(tr.Token)...); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous push = %d, want 401", r.Status)
	}
	if r := regtest.Send(t, http.MethodGet, public.URL+"/v2/_catalog", nil, bearer(tr.Token)...); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous catalog = %d, want 401", r.Status)
	}
	// No refresh token for anonymous users.
	q := scopes("repository:library/ubuntu:pull")
	q.Set("offline_token", "true")
	if tr := getToken(t, public, "", "", q); tr.RefreshToken != "" {
		t.Errorf("anonymous offline_token = refresh token %q, want none", tr.RefreshToken)
	}
}

func TestTokenGrantsIntersection(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw", "bob": "pw"}),
		WithGrant("alice", "team/*", "pull", "push"),
		WithGrant("bob", "*", "*"),
		WithGrant("", "public", "pull"))
	tests := []struct {
		name, user string
		scope      string
		want       string
	}{
		{name: "prefix grant", user: "alice", scope: "repository:team/app:pull,push,delete", want: "repository:team/app:pull,push"},
		{name: "outside the grants", user: "alice", scope: "repository:other:pull", want: ""},
		{name: "anonymous grant applies", user: "alice", scope: "repository:public:pull,push", want: "repository:public:pull"},
		{name: "catalog", user: "alice", scope: "registry:catalog:*", want: "registry:catalog:*"},
		{name: "star action", user: "bob", scope: "repository:x/y:*", want: "repository:x/y:pull,push,delete"},
		{name: "repeated actions", user: "bob", scope: "repository:x:pull,pull", want: "repository:x:pull"},
		{name: "scope class", user: "bob", scope: "repository(plugin):x:pull", want: "repository:x:pull"},
		{name: "unknown type", user: "bob", scope: "widget:x:pull", want: ""},
		{name: "unknown action", user: "bob", scope: "repository:x:fly", want: ""},
		{name: "several scopes", user: "alice", scope: "repository:team/a:pull repository:team/b:push registry:catalog:*", want: "repository:team/a:pull repository:team/b:push registry:catalog:*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := postToken(t, srv, url.Values{
				"grant_type": {"password"}, "username": {tc.user}, "password": {"pw"},
				"client_id": {"regkit-test"}, "service": {"regkit-fake"}, "scope": {tc.scope},
			})
			if tr.Scope != tc.want {
				t.Errorf("granted scope = %q, want %q", tr.Scope, tc.want)
			}
		})
	}
}

func TestTokenTTLDefault(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}), WithTokenTTL(0))
	if tr := getToken(t, srv, "alice", "pw", scopes()); tr.ExpiresIn != 300 {
		t.Errorf("WithTokenTTL(0): expires_in = %d, want 300", tr.ExpiresIn)
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}), WithTokenTTL(1500*time.Millisecond), withClock(clock))
	tr := getToken(t, srv, "alice", "pw", scopes("repository:app:pull"))
	if tr.ExpiresIn != 2 {
		t.Errorf("expires_in = %d, want the TTL rounded up, 2", tr.ExpiresIn)
	}
	if want := clock.Now().Format(time.RFC3339); tr.IssuedAt != want {
		t.Errorf("issued_at = %s, want %s", tr.IssuedAt, want)
	}
	path := srv.URL + "/v2/app/tags/list"
	clock.Advance(1999 * time.Millisecond)
	if r := regtest.Send(t, http.MethodGet, path, nil, bearer(tr.Token)...); r.Status != http.StatusNotFound {
		t.Errorf("just before expiry = %d, want 404 (allowed, absent)", r.Status)
	}
	clock.Advance(time.Millisecond)
	r := regtest.Send(t, http.MethodGet, path, nil, bearer(tr.Token)...)
	if r.Status != http.StatusUnauthorized || !strings.HasSuffix(r.Header.Get("WWW-Authenticate"), `,error="invalid_token"`) {
		t.Errorf("expired token = %d %s, want 401 invalid_token", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	if !strings.Contains(r.Body, "token expired") {
		t.Errorf("expired token body = %s, want it to say so", r.Body)
	}
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}), WithTokenTTL(time.Minute), withClock(clock))
	form := url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {"pw"}, "client_id": {"regkit-test"},
		"service": {"regkit-fake"}, "scope": {"repository:app:pull"}, "access_type": {"offline"},
	}
	first := postToken(t, srv, form)
	if first.RefreshToken == "" || first.ExpiresIn != 60 {
		t.Fatalf("password grant = %+v, want a refresh token and expires_in 60", first)
	}
	// Without access_type=offline, no refresh token.
	form.Del("access_type")
	if tr := postToken(t, srv, form); tr.RefreshToken != "" {
		t.Errorf("online password grant = refresh token %q, want none", tr.RefreshToken)
	}

	clock.Advance(time.Hour) // the access token expired, the refresh token did not
	if r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/app/tags/list", nil, bearer(first.Token)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("expired access token = %d, want 401", r.Status)
	}
	refresh := url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}, "client_id": {"regkit-test"},
		"service": {"regkit-fake"}, "scope": {"repository:app:pull,push"},
	}
	second := postToken(t, srv, refresh)
	if second.Scope != "repository:app:pull,push" || second.RefreshToken != "" {
		t.Errorf("refresh grant = scope %q refresh %q, want repository:app:pull,push and no refresh token", second.Scope, second.RefreshToken)
	}
	if r := regtest.PushBlob(t, srv.URL, "app", []byte("x"), bearer(second.Token)...); r.Status != http.StatusCreated {
		t.Errorf("push with a refreshed token = %d %s, want 201", r.Status, r.Body)
	}
	if got := srv.Requests(); got[len(got)-1].User != "alice" {
		t.Errorf("last request's user = %q, want alice", got[len(got)-1].User)
	}
	refresh.Set("access_type", "offline")
	if tr := postToken(t, srv, refresh); tr.RefreshToken != first.RefreshToken {
		t.Errorf("offline refresh grant = refresh token %q, want the one sent", tr.RefreshToken)
	}

	// Each kind of token is good for its own use only.
	r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil, bearer(first.RefreshToken)...)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("refresh token as access token = %d %s, want 401 invalid_token", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	refresh.Set("refresh_token", second.Token)
	r = regtest.Send(t, http.MethodPost, srv.URL+"/token", []byte(refresh.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, `"error":"invalid_grant"`) {
		t.Errorf("access token as refresh token = %d %s, want 401 invalid_grant", r.Status, r.Body)
	}

	// GET hands out refresh tokens too, with offline_token=true.
	q := scopes("repository:app:pull")
	q.Set("offline_token", "true")
	q.Set("client_id", "regkit-test")
	if tr := getToken(t, srv, "alice", "pw", q); tr.RefreshToken == "" {
		t.Errorf("GET with offline_token=true = no refresh token, want one")
	}
}

func TestForgedTokens(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "pw"}
	srv := Serve(t, WithTokenAuth(users), WithGrant("alice", "app", "pull"))
	other := Serve(t, WithTokenAuth(users))
	good := getToken(t, srv, "alice", "pw", scopes("repository:app:pull")).Token
	parts := strings.Split(good, ".")

	// A payload granting more, under the original signature.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	more := strings.Replace(string(payload), `"actions":["pull"]`, `"actions":["pull","push"]`, 1)
	if more == string(payload) {
		t.Fatalf("payload %s has no pull action", payload)
	}
	tests := []struct {
		name, token string
	}{
		{name: "other server's token", token: getToken(t, other, "alice", "pw", scopes("repository:app:pull,push")).Token},
		{name: "payload changed", token: parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(more)) + "." + parts[2]},
		{name: "alg none", token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."},
		{name: "two parts", token: parts[0] + "." + parts[1]},
		{name: "bad signature encoding", token: parts[0] + "." + parts[1] + ".!!"},
		{name: "bad payload encoding", token: signWith(t, srv, "!!")},
		{name: "payload not JSON", token: signWith(t, srv, base64.RawURLEncoding.EncodeToString([]byte("[")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := regtest.PushBlob(t, srv.URL, "app", []byte("x"), bearer(tc.token)...)
			if r.Status != http.StatusUnauthorized || !strings.HasSuffix(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("push = %d %s, want 401 invalid_token", r.Status, r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// signWith signs an arbitrary payload with srv's key, as a token would be.
func signWith(t *testing.T, srv *Server, payload string) string {
	t.Helper()
	signed := tokenHeader + "." + payload
	return signed + "." + base64.RawURLEncoding.EncodeToString(srv.auth.mac(signed))
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": "pw"}))
	form := func(kv ...string) []byte {
		v := url.Values{"client_id": {"regkit-test"}, "service": {"regkit-fake"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return []byte(v.Encode())
	}
	formType := []string{"Content-Type", "application/x-www-form-urlencoded"}
	tests := []struct {
		name          string
		method, query string
		body          []byte
		headers       []string
		wantStatus    int
		wantError     string // the OAuth2 error code
		wantChallenge string
	}{
		{name: "wrong password", method: http.MethodGet, query: "?service=regkit-fake", headers: basicHeader("alice", "no"), wantStatus: http.StatusUnauthorized, wantError: "invalid_grant", wantChallenge: `Basic realm="regkit-fake"`},
		{name: "bearer credentials", method: http.MethodGet, headers: bearer("abc"), wantStatus: http.StatusUnauthorized, wantError: "invalid_grant", wantChallenge: `Basic realm="regkit-fake"`},
		{name: "wrong service", method: http.MethodGet, query: "?service=docker.io", wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "malformed scope", method: http.MethodGet, query: "?scope=repository:app", wantStatus: http.StatusBadRequest, wantError: "invalid_scope"},
		{name: "scope without name", method: http.MethodGet, query: "?scope=repository::pull", wantStatus: http.StatusBadRequest, wantError: "invalid_scope"},
		{name: "scope without type", method: http.MethodGet, query: "?scope=:app:pull", wantStatus: http.StatusBadRequest, wantError: "invalid_scope"},
		{name: "method", method: http.MethodPut, wantStatus: http.StatusMethodNotAllowed, wantError: "invalid_request"},
		{name: "post wrong password", method: http.MethodPost, body: form("grant_type", "password", "username", "alice", "password", "no"), headers: formType, wantStatus: http.StatusUnauthorized, wantError: "invalid_grant"},
		{name: "post unknown user", method: http.MethodPost, body: form("grant_type", "password", "username", "bob", "password", "pw"), headers: formType, wantStatus: http.StatusUnauthorized, wantError: "invalid_grant"},
		{name: "post without username", method: http.MethodPost, body: form("grant_type", "password", "password", "pw"), headers: formType, wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "post without client_id", method: http.MethodPost, body: []byte("grant_type=password&username=alice&password=pw"), headers: formType, wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "post wrong service", method: http.MethodPost, body: form("grant_type", "password", "username", "alice", "password", "pw", "service", "x"), headers: formType, wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "post unknown grant type", method: http.MethodPost, body: form("grant_type", "client_credentials"), headers: formType, wantStatus: http.StatusBadRequest, wantError: "unsupported_grant_type"},
		{name: "post bad refresh token", method: http.MethodPost, body: form("grant_type", "refresh_token", "refresh_token", "abc"), headers: formType, wantStatus: http.StatusUnauthorized, wantError: "invalid_grant"},
		{name: "post malformed form", method: http.MethodPost, body: []byte("a=%zz"), headers: formType, wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
		{name: "post malformed scope", method: http.MethodPost, body: form("grant_type", "password", "username", "alice", "password", "pw", "scope", "nonsense"), headers: formType, wantStatus: http.StatusBadRequest, wantError: "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := regtest.Send(t, tc.method, srv.URL+"/token"+tc.query, tc.body, tc.headers...)
			if r.Status != tc.wantStatus {
				t.Fatalf("%s /token = %d %s, want %d", tc.method, r.Status, r.Body, tc.wantStatus)
			}
			var body struct {
				Error  string `json:"error"`
				Errors []struct{ Code string }
			}
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s: %v, want OAuth2 and OCI errors", r.Body, err)
			}
			if body.Error != tc.wantError {
				t.Errorf("error = %q, want %q", body.Error, tc.wantError)
			}
			wantCode := "UNSUPPORTED"
			if tc.wantStatus == http.StatusUnauthorized {
				wantCode = "UNAUTHORIZED"
			}
			if body.Errors[0].Code != wantCode {
				t.Errorf("errors[0].code = %q, want %q", body.Errors[0].Code, wantCode)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantChallenge)
			}
		})
	}
}
