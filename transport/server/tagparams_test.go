package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// TestPutManifestTagParams pushes a manifest by its sha512 digest with the
// tag query parameters of the distribution spec's next version (what the
// OCI conformance suite sends with OCI_VERSION=dev): the answer confirms
// each tag with OCI-Tag, and HEAD and GET by tag answer the sha512 digest
// it was pushed by, not its sha256 one.
func TestPutManifestTagParams(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(server.NewHandler(fake.NewStore()))
	defer srv.Close()
	const mt = "application/vnd.oci.image.index.v1+json"
	body := `{"schemaVersion":2,"mediaType":"` + mt + `","manifests":[]}`
	d512 := digest.SHA512.FromString(body)
	do := func(method, path string, query url.Values) *http.Response {
		t.Helper()
		u := srv.URL + path
		if query != nil {
			u += "?" + query.Encode()
		}
		var b *strings.Reader
		if method == http.MethodPut {
			b = strings.NewReader(body)
		} else {
			b = strings.NewReader("")
		}
		req, err := http.NewRequest(method, u, b)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mt)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := do(http.MethodPut, "/v2/a/manifests/"+d512.String(), url.Values{"tag": {"1.0", "latest"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT by sha512 digest with tags = %d, want 201", resp.StatusCode)
	}
	if got := resp.Header.Values("OCI-Tag"); !slices.Equal(got, []string{"1.0", "latest"}) {
		t.Errorf("OCI-Tag = %q, want 1.0 and latest", got)
	}
	// A tag named twice is confirmed once.
	resp = do(http.MethodPut, "/v2/a/manifests/"+d512.String(), url.Values{"tag": {"twice", "1.0", "twice"}})
	if got := resp.Header.Values("OCI-Tag"); resp.StatusCode != http.StatusCreated || !slices.Equal(got, []string{"twice", "1.0"}) {
		t.Errorf("PUT with a tag twice = %d, OCI-Tag %q; want 201, twice and 1.0", resp.StatusCode, got)
	}
	for _, tag := range []string{"1.0", "latest"} {
		for _, m := range []string{http.MethodHead, http.MethodGet} {
			resp := do(m, "/v2/a/manifests/"+tag, nil)
			if got := resp.Header.Get("Docker-Content-Digest"); resp.StatusCode != http.StatusOK || got != d512.String() {
				t.Errorf("%s by tag %s = %d, Docker-Content-Digest %s, want 200 and %s", m, tag, resp.StatusCode, got, d512)
			}
		}
	}

	// A put by tag ignores them; a bad tag fails the put, which stores nothing.
	tests := []struct {
		name, ref  string
		tags       []string
		wantStatus int
		absent     string // a tag that must not exist after
	}{
		{"put by tag", "2.0", []string{"other"}, http.StatusCreated, "other"},
		{"bad tag", digest.SHA512.FromString(body).String(), []string{"fine", "not/a/tag"}, http.StatusBadRequest, "fine"},
		{"too many tags", digest.SHA512.FromString(body).String(), manyTags(transport.MaxPutTags + 1), http.StatusBadRequest, "t0"},
	}
	for _, tc := range tests {
		resp := do(http.MethodPut, "/v2/a/manifests/"+tc.ref, url.Values{"tag": tc.tags})
		if resp.StatusCode != tc.wantStatus || len(resp.Header.Values("OCI-Tag")) != 0 {
			t.Errorf("%s: PUT = %d, OCI-Tag %q, want %d and none", tc.name, resp.StatusCode, resp.Header.Values("OCI-Tag"), tc.wantStatus)
		}
		if resp := do(http.MethodHead, "/v2/a/manifests/"+tc.absent, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: HEAD %s = %d, want 404", tc.name, tc.absent, resp.StatusCode)
		}
	}
}

// manyTags returns n distinct tags, t0 to t<n-1>.
func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "t" + strconv.Itoa(i)
	}
	return tags
}
