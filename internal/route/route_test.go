package route

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/regkit/regkit/transport"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path    string
		want    Target
		wantErr error
	}{
		{path: "/v2/", want: Target{Kind: Base}},
		{path: "/v2", want: Target{Kind: Base}},
		{path: "/v2/_catalog", want: Target{Kind: Catalog}},
		{path: "/v2/%5Fcatalog", want: Target{Kind: Catalog}},
		{path: "/v2/%5fcatalog", want: Target{Kind: Catalog}},
		{path: "/v2/a/b/manifests/latest", want: Target{Kind: Manifest, Name: "a/b", Ref: "latest"}},
		{path: "/v2/secret/%6danifests/latest", want: Target{Kind: Manifest, Name: "secret", Ref: "latest"}},
		{path: "/v2/%73ecret/manifests/%6Catest", want: Target{Kind: Manifest, Name: "secret", Ref: "latest"}},
		{path: "/v2/manifests/manifests/x", want: Target{Kind: Manifest, Name: "manifests", Ref: "x"}},
		{path: "/v2/a/blobs/sha256:abc", want: Target{Kind: Blob, Name: "a", Ref: "sha256:abc"}},
		{path: "/v2/a/%62lobs/sha256:abc", want: Target{Kind: Blob, Name: "a", Ref: "sha256:abc"}},
		{path: "/v2/a/blobs/uploads", want: Target{Kind: UploadStart, Name: "a"}},
		{path: "/v2/a/blobs/uploads/", want: Target{Kind: UploadStart, Name: "a"}},
		{path: "/v2/a/blobs/%75ploads/", want: Target{Kind: UploadStart, Name: "a"}},
		{path: "/v2/a/blobs/uploads/id-1", want: Target{Kind: Upload, Name: "a", Ref: "id-1"}},
		{path: "/v2/a/%62lobs/%75ploads/id-1", want: Target{Kind: Upload, Name: "a", Ref: "id-1"}},
		{path: "/v2/a/tags/list", want: Target{Kind: Tags, Name: "a"}},
		{path: "/v2/a/%74ags/%6Cist", want: Target{Kind: Tags, Name: "a"}},
		{path: "/v2/a/referrers/sha256:abc", want: Target{Kind: Referrers, Name: "a", Ref: "sha256:abc"}},
		{path: "/", wantErr: ErrNoEndpoint},
		{path: "/%762/", wantErr: ErrNoEndpoint},
		{path: "/token", wantErr: ErrNoEndpoint},
		{path: "/v2/a", wantErr: ErrNoEndpoint},
		{path: "/v2/a/other/thing", wantErr: ErrNoEndpoint},
		{path: "/v2/blobs/uploads/abc", wantErr: ErrNoEndpoint},
		{path: "/v2/_catalog/x", wantErr: ErrNoEndpoint},
		{path: "/v2/a%2Fb/manifests/v1", wantErr: transport.ErrNameInvalid},
		{path: "/v2/a/manifests/v1%2fx", wantErr: transport.ErrNameInvalid},
		{path: "/v2/a%zz/manifests/v1", wantErr: transport.ErrNameInvalid},
		{path: "/v2/A/manifests/v1", wantErr: transport.ErrNameInvalid},
		{path: "/v2/a/../b/manifests/v1", wantErr: transport.ErrNameInvalid},
		{path: "/v2/a//b/manifests/v1", wantErr: transport.ErrNameInvalid},
		{path: "/v2//manifests/v1", wantErr: transport.ErrNameInvalid},
	}
	for _, tc := range tests {
		got, err := Parse(tc.path)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tc.path, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFromRequest(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/v2/app/%6Danifests/v1", nil)
	ctx, want, err := NewContext(r.Context(), r.URL.EscapedPath())
	if err != nil {
		t.Fatal(err)
	}
	r = r.WithContext(ctx)
	if got, err := FromRequest(r); got != want || err != nil {
		t.Errorf("FromRequest = %+v, %v; want %+v", got, err, want)
	}
	// A request whose path changed after the parse is parsed again.
	r.URL.Path, r.URL.RawPath = "/v2/other/tags/list", ""
	if got, err := FromRequest(r); got != (Target{Kind: Tags, Name: "other"}) || err != nil {
		t.Errorf("FromRequest after a path change = %+v, %v; want the tags of other", got, err)
	}
	// A parse error travels as well.
	ctx, _, _ = NewContext(r.Context(), "/v2/A/tags/list")
	r = httptest.NewRequest("GET", "/v2/A/tags/list", nil).WithContext(ctx)
	if _, err := FromRequest(r); !errors.Is(err, transport.ErrNameInvalid) {
		t.Errorf("FromRequest of an invalid name = %v, want transport.ErrNameInvalid", err)
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	if got := Manifest.String(); got != "manifest" {
		t.Errorf("Manifest.String() = %q", got)
	}
	if got := Kind(42).String(); got != "Kind(42)" {
		t.Errorf("Kind(42).String() = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/v2/", "/v2/a/%6danifests/x", "/v2/%5Fcatalog", "/v2/a/blobs/uploads/", "/v2/a%2Fb/tags/list"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got, err := Parse(path)
		if err != nil {
			if got != (Target{}) {
				t.Fatalf("Parse(%q) = %+v with error %v, want the zero Target", path, got, err)
			}
			if !errors.Is(err, ErrNoEndpoint) && !errors.Is(err, transport.ErrNameInvalid) {
				t.Fatalf("Parse(%q) error %v matches no sentinel", path, err)
			}
			return
		}
		if got.Kind == None {
			t.Fatalf("Parse(%q) = %+v, nil: no endpoint without an error", path, got)
		}
	})
}
