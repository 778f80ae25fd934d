package fake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/internal/route"
)

func basicHeader(user, password string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

// errorCode returns the code of the first error of an OCI error body.
func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("error body %q: %v, want the spec's JSON error body", body, err)
	}
	return e.Errors[0].Code
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "alice-pw", "bob": "bob-pw"}
	open := Serve(t, WithBasicAuth(users))
	granted := Serve(t, WithBasicAuth(users),
		WithGrant("alice", "team/*", "pull", "push"),
		WithGrant("bob", "team/app", "pull"),
		WithGrant("", "public", "pull"))
	blob := digest.FromString("nothing").String()
	alice, bob := basicHeader("alice", "alice-pw"), basicHeader("bob", "bob-pw")
	tests := []struct {
		name       string
		srv        *Server
		method     string
		path       string
		headers    []string
		wantStatus int
		wantCode   string // the error body's code, if any
		wantUser   string
	}{
		{name: "anonymous version check", srv: open, method: http.MethodGet, path: "/v2/", wantStatus: http.StatusUnauthorized, wantCode: "UNAUTHORIZED"},
		{name: "version check", srv: open, method: http.MethodGet, path: "/v2/", headers: alice, wantStatus: http.StatusOK, wantUser: "alice"},
		{name: "wrong password", srv: open, method: http.MethodGet, path: "/v2/", headers: basicHeader("alice", "bob-pw"), wantStatus: http.StatusUnauthorized, wantCode: "UNAUTHORIZED"},
		{name: "unknown user", srv: open, method: http.MethodGet, path: "/v2/", headers: basicHeader("carol", ""), wantStatus: http.StatusUnauthorized, wantCode: "UNAUTHORIZED"},
		{name: "bearer on a basic server", srv: open, method: http.MethodGet, path: "/v2/", headers: []string{"Authorization", "Bearer abc"}, wantStatus: http.StatusUnauthorized, wantCode: "UNAUTHORIZED"},
		{name: "anonymous pull", srv: open, method: http.MethodHead, path: "/v2/app/blobs/" + blob, wantStatus: http.StatusUnauthorized},
		{name: "pull without grants", srv: open, method: http.MethodGet, path: "/v2/app/blobs/" + blob, headers: bob, wantStatus: http.StatusNotFound, wantCode: "NAME_UNKNOWN", wantUser: "bob"},
		{name: "delete without grants", srv: open, method: http.MethodDelete, path: "/v2/app/manifests/" + blob, headers: bob, wantStatus: http.StatusNotFound, wantCode: "NAME_UNKNOWN", wantUser: "bob"},
		{name: "catalog", srv: granted, method: http.MethodGet, path: "/v2/_catalog", headers: bob, wantStatus: http.StatusOK, wantUser: "bob"},
		{name: "anonymous catalog", srv: granted, method: http.MethodGet, path: "/v2/_catalog", wantStatus: http.StatusUnauthorized, wantCode: "UNAUTHORIZED"},
		{name: "granted pull by prefix", srv: granted, method: http.MethodGet, path: "/v2/team/web/blobs/" + blob, headers: alice, wantStatus: http.StatusNotFound, wantCode: "NAME_UNKNOWN", wantUser: "alice"},
		{name: "granted push by prefix", srv: granted, method: http.MethodPost, path: "/v2/team/web/blobs/uploads/", headers: alice, wantStatus: http.StatusAccepted, wantUser: "alice"},
		{name: "push not granted", srv: granted, method: http.MethodPost, path: "/v2/team/app/blobs/uploads/", headers: bob, wantStatus: http.StatusForbidden, wantCode: "DENIED", wantUser: "bob"},
		{name: "delete not granted", srv: granted, method: http.MethodDelete, path: "/v2/team/app/manifests/" + blob, headers: alice, wantStatus: http.StatusForbidden, wantCode: "DENIED", wantUser: "alice"},
		{name: "outside the prefix", srv: granted, method: http.MethodGet, path: "/v2/teamwork/blobs/" + blob, headers: alice, wantStatus: http.StatusForbidden, wantCode: "DENIED", wantUser: "alice"},
		{name: "exact name only", srv: granted, method: http.MethodGet, path: "/v2/team/app2/blobs/" + blob, headers: bob, wantStatus: http.StatusForbidden, wantCode: "DENIED", wantUser: "bob"},
		{name: "anonymous grant", srv: granted, method: http.MethodGet, path: "/v2/public/blobs/" + blob, wantStatus: http.StatusNotFound, wantCode: "NAME_UNKNOWN"},
		{name: "anonymous grant is everyone's", srv: granted, method: http.MethodGet, path: "/v2/public/blobs/" + blob, headers: bob, wantStatus: http.StatusNotFound, wantCode: "NAME_UNKNOWN", wantUser: "bob"},
		{name: "anonymous push", srv: granted, method: http.MethodPost, path: "/v2/public/blobs/uploads/", wantStatus: http.StatusUnauthorized, wantCode: "UNAUTHORIZED"},
		{name: "anonymous version check with an anonymous grant", srv: granted, method: http.MethodGet, path: "/v2/", wantStatus: http.StatusOK},
		{name: "mount needs pull on from", srv: granted, method: http.MethodPost, path: "/v2/team/web/blobs/uploads/?mount=" + blob + "&from=other", headers: alice, wantStatus: http.StatusForbidden, wantCode: "DENIED", wantUser: "alice"},
		{name: "mount from a granted repository", srv: granted, method: http.MethodPost, path: "/v2/team/web/blobs/uploads/?mount=" + blob + "&from=public", headers: alice, wantStatus: http.StatusAccepted, wantUser: "alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := regtest.Send(t, tc.method, tc.srv.URL+tc.path, nil, tc.headers...)
			if r.Status != tc.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.wantStatus)
			}
			wantChallenge := ""
			if tc.wantStatus == http.StatusUnauthorized {
				wantChallenge = `Basic realm="regkit-fake"`
			}
			if got := r.Header.Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
			}
			if tc.wantCode != "" {
				if got := errorCode(t, r.Body); got != tc.wantCode {
					t.Errorf("error code = %s, want %s", got, tc.wantCode)
				}
			}
			if got := r.Header.Get("Docker-Distribution-API-Version"); got != "registry/2.0" {
				t.Errorf("Docker-Distribution-API-Version = %q, want registry/2.0", got)
			}
		})
	}
	// Every request is in the log of its server, with the user it
	// authenticated as.
	t.Cleanup(func() {
		seen := map[*Server]map[string]int{open: {}, granted: {}}
		for s := range seen {
			for _, req := range s.Requests() {
				seen[s][req.User]++
			}
		}
		for _, tc := range tests {
			if seen[tc.srv][tc.wantUser] == 0 {
				t.Errorf("no request of user %q in the log, want one for %q", tc.wantUser, tc.name)
			}
		}
	})
}

func TestBasicAuthPush(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithBasicAuth(map[string]string{"alice": "pw"}))
	data := []byte("layer")
	if r := regtest.PushBlob(t, srv.URL, "app", data); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous push = %d, want 401", r.Status)
	}
	if r := regtest.PushBlob(t, srv.URL, "app", data, basicHeader("alice", "pw")...); r.Status != http.StatusCreated {
		t.Fatalf("push = %d %s, want 201", r.Status, r.Body)
	}
	r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/app/blobs/"+digest.FromBytes(data).String(), nil, basicHeader("alice", "pw")...)
	if r.Status != http.StatusOK || r.Body != "layer" {
		t.Errorf("GET blob = %d %q, want 200 %q", r.Status, r.Body, "layer")
	}
	// HEAD refusals have no body.
	r = regtest.Send(t, http.MethodHead, srv.URL+"/v2/app/blobs/"+digest.FromBytes(data).String(), nil)
	if r.Status != http.StatusUnauthorized || r.Body != "" {
		t.Errorf("anonymous HEAD = %d %q, want 401 with no body", r.Status, r.Body)
	}
}

func TestRequiredAccess(t *testing.T) {
	t.Parallel()
	d := digest.FromString("x").String()
	tests := []struct {
		method, path string
		want         string // the challenge's scope
	}{
		{method: http.MethodGet, path: "/v2/", want: ""},
		{method: http.MethodGet, path: "/v2", want: ""},
		{method: http.MethodGet, path: "/", want: ""},
		{method: http.MethodGet, path: "/v2/_catalog?n=10", want: "registry:catalog:*"},
		{method: http.MethodGet, path: "/v2/a/b/c/manifests/latest", want: "repository:a/b/c:pull"},
		{method: http.MethodHead, path: "/v2/app/blobs/" + d, want: "repository:app:pull"},
		{method: http.MethodGet, path: "/v2/app/tags/list", want: "repository:app:pull"},
		{method: http.MethodGet, path: "/v2/app/referrers/" + d, want: "repository:app:pull"},
		{method: http.MethodPut, path: "/v2/app/manifests/v1", want: "repository:app:pull,push"},
		{method: http.MethodDelete, path: "/v2/app/manifests/" + d, want: "repository:app:delete"},
		{method: http.MethodDelete, path: "/v2/app/blobs/" + d, want: "repository:app:delete"},
		{method: http.MethodPost, path: "/v2/app/blobs/uploads/", want: "repository:app:pull,push"},
		{method: http.MethodPost, path: "/v2/app/blobs/uploads", want: "repository:app:pull,push"},
		{method: http.MethodPatch, path: "/v2/app/blobs/uploads/abc", want: "repository:app:pull,push"},
		{method: http.MethodPut, path: "/v2/app/blobs/uploads/abc?digest=" + d, want: "repository:app:pull,push"},
		{method: http.MethodGet, path: "/v2/app/blobs/uploads/abc", want: "repository:app:pull"},
		{method: http.MethodPost, path: "/v2/app/blobs/uploads/?mount=" + d + "&from=lib/base", want: "repository:app:pull,push repository:lib/base:pull"},
		{method: http.MethodPost, path: "/v2/app/blobs/uploads/?mount=" + d + "&from=app", want: "repository:app:pull,push"},
		{method: http.MethodPost, path: "/v2/app/blobs/uploads/?mount=" + d, want: "repository:app:pull,push"},
		{method: http.MethodPost, path: "/v2/app/blobs/uploads/?from=other", want: "repository:app:pull,push"},
		{method: http.MethodGet, path: "/v2/manifests/manifests/latest", want: "repository:manifests:pull"},
		{method: http.MethodGet, path: "/v2/app/something/else", want: ""},
		{method: http.MethodGet, path: "/v2/blobs/uploads/abc", want: ""},
		{method: http.MethodOptions, path: "/v2/app/manifests/latest", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.path, nil)
			rt, _ := route.Parse(r.URL.EscapedPath())
			if got := scopeParam(requiredAccess(r, rt)); got != tc.want {
				t.Errorf("requiredAccess(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestRequiredAccessBadEscape(t *testing.T) {
	t.Parallel()
	// A request's escaped path is always valid; a bad one names nothing.
	r := httptest.NewRequest(http.MethodGet, "/v2/app/manifests/latest", nil)
	rt, err := route.Parse("/v2/a%zz/manifests/latest")
	if got := requiredAccess(r, rt); err == nil || got != nil {
		t.Errorf("requiredAccess(bad escape) = %v (parse error %v), want nothing and an error", got, err)
	}
}

func TestGrantMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{pattern: "app", name: "app", want: true},
		{pattern: "app", name: "app2", want: false},
		{pattern: "app", name: "team/app", want: false},
		{pattern: "team/*", name: "team/app", want: true},
		{pattern: "team/*", name: "team/a/b", want: true},
		{pattern: "team/*", name: "team", want: false},
		{pattern: "team/*", name: "teamwork/app", want: false},
		{pattern: "team*", name: "teamwork/app", want: true},
		{pattern: "*", name: "anything/at/all", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+" "+tc.name, func(t *testing.T) {
			t.Parallel()
			if got := (grant{repository: tc.pattern}).matches(tc.name); got != tc.want {
				t.Errorf("grant %q matches(%q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
			}
		})
	}
}

func TestAccessDetail(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithBasicAuth(map[string]string{"alice": "pw"}), WithGrant("alice", "app", "pull"))
	r := regtest.Send(t, http.MethodPut, srv.URL+"/v2/app/manifests/v1", []byte("{}"), basicHeader("alice", "pw")...)
	var body struct {
		Errors []struct {
			Code    string
			Message string
			Detail  []struct{ Type, Name, Action string }
		}
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("PUT manifest = %d %s: %v", r.Status, r.Body, err)
	}
	e := body.Errors[0]
	if e.Code != "DENIED" || len(e.Detail) != 1 || e.Detail[0].Type != "repository" || e.Detail[0].Name != "app" || e.Detail[0].Action != "push" {
		t.Errorf("error = %+v, want DENIED with detail repository app push", e)
	}
	if e.Message != "user alice may not repository:app:push" {
		t.Errorf("message = %q", e.Message)
	}
}
