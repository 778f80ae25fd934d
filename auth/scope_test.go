package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/regkit/regkit/internal/intent"
)

func TestRequestScopes(t *testing.T) {
	t.Parallel()
	const d = "sha256:4d7f8b1b9a4e6b2c5f0e3a8d1c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b"
	tests := []struct {
		name, method, target string
		hints                []Scope
		want                 []string
	}{
		{"manifest get", "GET", "/v2/myapp1/manifests/latest", nil, []string{"repository:myapp1:pull"}},
		{"manifest head, nested name", "HEAD", "/v2/team/sub/app/manifests/" + d, nil, []string{"repository:team/sub/app:pull"}},
		{"manifest put", "PUT", "/v2/myapp1/manifests/3.0", nil, []string{"repository:myapp1:pull,push"}},
		{"manifest delete", "DELETE", "/v2/myapp1/manifests/" + d, nil, []string{"repository:myapp1:delete"}},
		{"blob head", "HEAD", "/v2/myapp1/blobs/" + d, nil, []string{"repository:myapp1:pull"}},
		{"blob get", "GET", "/v2/myapp1/blobs/" + d, nil, []string{"repository:myapp1:pull"}},
		{"blob delete", "DELETE", "/v2/myapp1/blobs/" + d, nil, []string{"repository:myapp1:delete"}},
		{"upload start", "POST", "/v2/myapp1/blobs/uploads/", nil, []string{"repository:myapp1:pull,push"}},
		{"upload start without slash", "POST", "/v2/myapp1/blobs/uploads", nil, []string{"repository:myapp1:pull,push"}},
		{"upload chunk", "PATCH", "/v2/myapp1/blobs/uploads/0f3c-uuid?_state=abc", nil, []string{"repository:myapp1:pull,push"}},
		{"upload commit", "PUT", "/v2/myapp1/blobs/uploads/0f3c-uuid?digest=" + d, nil, []string{"repository:myapp1:pull,push"}},
		{"upload status", "GET", "/v2/myapp1/blobs/uploads/0f3c-uuid", nil, []string{"repository:myapp1:pull"}},
		{"upload cancel", "DELETE", "/v2/myapp1/blobs/uploads/0f3c-uuid", nil, []string{"repository:myapp1:delete"}},
		{
			"cross-repository mount", "POST", "/v2/target/blobs/uploads/?mount=" + d + "&from=lib/source", nil,
			[]string{"repository:target:pull,push", "repository:lib/source:pull"},
		},
		{"self mount", "POST", "/v2/app/blobs/uploads/?mount=" + d + "&from=app", nil, []string{"repository:app:pull,push"}},
		{"from ignored on GET", "GET", "/v2/app/tags/list?from=other", nil, []string{"repository:app:pull"}},
		{"tags", "GET", "/v2/myapp1/tags/list?n=10&last=v1", nil, []string{"repository:myapp1:pull"}},
		{"referrers", "GET", "/v2/myapp1/referrers/" + d + "?artifactType=x", nil, []string{"repository:myapp1:pull"}},
		{"catalog", "GET", "/v2/_catalog?n=100", nil, []string{"registry:catalog:*"}},
		{"base", "GET", "/v2/", nil, nil},
		{"not the api", "GET", "/token", nil, nil},
		{"no name", "GET", "/v2/manifests/latest", nil, nil},
		{"unknown route", "GET", "/v2/myapp1/other/thing", nil, nil},
		{"name with keyword components", "GET", "/v2/x/blobs/tags/manifests/latest", nil, []string{"repository:x/blobs/tags:pull"}},
		{"tag named blobs", "GET", "/v2/x/manifests/blobs", nil, []string{"repository:x:pull"}},
		{"escaped keyword, read as a server reads it", "PUT", "/v2/secret/%6danifests/latest", nil, []string{"repository:secret:pull,push"}},
		{"escaped name", "GET", "/v2/te%61m/app/tags/list", nil, []string{"repository:team/app:pull"}},
		{"invalid name", "GET", "/v2/App/tags/list", nil, nil},
		{"options has no action", "OPTIONS", "/v2/myapp1/manifests/latest", nil, nil},
		{
			"hints come after, merged by resource", "HEAD", "/v2/app/blobs/" + d,
			[]Scope{{Resource: "repository:app", Actions: []string{"push"}}, {Resource: "repository:base", Actions: []string{"pull"}}},
			[]string{"repository:app:pull,push", "repository:base:pull"},
		},
		{"empty hint ignored", "GET", "/v2/", []Scope{{}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, "http://reg.example"+tc.target, nil)
			if tc.hints != nil {
				r = r.WithContext(WithScopes(r.Context(), tc.hints...))
			}
			got := requestScopes(r, nil).strings()
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("requestScopes(%s %s) = %q, want %q", tc.method, tc.target, got, tc.want)
			}
		})
	}
}

func TestScopeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Scope
		want string
	}{
		{Scope{Resource: "repository:myapp1", Actions: []string{"pull", "push"}}, "repository:myapp1:pull,push"},
		{Scope{Resource: "registry:catalog", Actions: []string{"*"}}, "registry:catalog:*"},
		{Scope{Resource: "aws"}, "aws"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Scope
	}{
		{"repository:a/b:pull,push", Scope{Resource: "repository:a/b", Actions: []string{"pull", "push"}}},
		{"repository:localhost:5000/app:pull", Scope{Resource: "repository:localhost:5000/app", Actions: []string{"pull"}}},
		{"registry:catalog:*", Scope{Resource: "registry:catalog", Actions: []string{"*"}}},
		{"repository(plugin):p:pull", Scope{Resource: "repository(plugin):p", Actions: []string{"pull"}}},
		{"repository:a:", Scope{Resource: "repository:a"}},
		{"repository:a:,pull,", Scope{Resource: "repository:a", Actions: []string{"pull"}}},
		{"aws", Scope{Resource: "aws"}},
		{"x:y", Scope{Resource: "x:y"}},
	}
	for _, tc := range tests {
		if got := parseScope(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseScope(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func scopeSetOf(list string) *scopeSet {
	s := newScopeSet()
	s.addList(list)
	return s
}

func TestScopeSetCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need string
		want       bool
	}{
		{"repository:a:pull,push", "repository:a:pull", true},
		{"repository:a:pull", "repository:a:pull,push", false},
		{"repository:a:pull repository:b:pull", "repository:b:pull", true},
		{"repository:a:pull", "repository:b:pull", false},
		{"registry:catalog:*", "registry:catalog:*", true},
		{"repository:a:*", "repository:a:delete", true},
		{"repository:a:pull", "", true},
		{"", "repository:a:pull", false},
		{"aws", "aws", true},
	}
	for _, tc := range tests {
		if got := scopeSetOf(tc.have).covers(scopeSetOf(tc.need)); got != tc.want {
			t.Errorf("{%s}.covers({%s}) = %v, want %v", tc.have, tc.need, got, tc.want)
		}
	}
}

func TestScopeSetKeyIsCanonical(t *testing.T) {
	t.Parallel()
	a := scopeSetOf("repository:b:push repository:a:pull repository:b:pull")
	b := scopeSetOf("repository:a:pull repository:b:pull,push repository:b:push")
	if a.key() != b.key() {
		t.Errorf("keys differ: %q vs %q", a.key(), b.key())
	}
	if want := "repository:a:pull repository:b:pull,push"; a.key() != want {
		t.Errorf("key() = %q, want %q", a.key(), want)
	}
	if got, want := a.strings(), []string{"repository:b:pull,push", "repository:a:pull"}; !reflect.DeepEqual(got, want) {
		t.Errorf("strings() = %q, want first-come order %q", got, want)
	}
	if got := scopeSetOf("repository:c:pull").union(a).strings()[0]; got != "repository:c:pull" {
		t.Errorf("union puts %q first, want the receiver's scopes first", got)
	}
}

func TestWithScopesAddsUpAndCopies(t *testing.T) {
	t.Parallel()
	acts := []string{"pull"}
	ctx := WithScopes(context.Background(), Scope{Resource: "repository:a", Actions: acts})
	ctx = WithScopes(ctx, Scope{Resource: "repository:b", Actions: []string{"push"}})
	acts[0] = "delete" // the caller's slice is not kept
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://reg.example/v2/", nil)
	got := requestScopes(r, nil).strings()
	if want := []string{"repository:a:pull", "repository:b:push"}; !reflect.DeepEqual(got, want) {
		t.Errorf("scopes = %q, want %q", got, want)
	}
	if s := requestScopes(httptest.NewRequestWithContext(context.Background(), http.MethodGet, "http://reg.example/v2/", nil), nil).strings(); len(s) != 0 {
		t.Errorf("the parent context got scopes %q", s)
	}
}

// TestIntentHintsByOrigin checks that a RoundTripper asks for the scopes
// an operation hints for its own registry, and never for those it hints
// for another (the target of a copy between registries).
func TestIntentHintsByOrigin(t *testing.T) {
	t.Parallel()
	tr := NewRoundTripper("reg.example", nil, nil)
	ctx := intent.With(context.Background(),
		intent.Hint{Origin: "https://reg.example", Scope: intent.Scope{Resource: "repository:dst", Actions: []string{"pull", "push"}}},
		intent.Hint{Origin: "https://other.example", Scope: intent.Scope{Resource: "repository:elsewhere", Actions: []string{"push"}}},
		intent.Hint{Origin: "http://reg.example", Scope: intent.Scope{Resource: "repository:plain", Actions: []string{"push"}}},
		intent.Hint{Scope: intent.Scope{Resource: "repository:any", Actions: []string{"pull"}}},
	)
	r := httptest.NewRequestWithContext(ctx, http.MethodHead, "https://reg.example/v2/src/manifests/1.0", nil)
	if !tr.ours(r.URL) {
		t.Fatal("the request is not for the RoundTripper's registry")
	}
	got := requestScopes(r, tr.serves).strings()
	if want := []string{"repository:src:pull", "repository:dst:pull,push", "repository:any:pull"}; !reflect.DeepEqual(got, want) {
		t.Errorf("scopes = %q, want %q", got, want)
	}
}
