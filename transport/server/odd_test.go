package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/server"
)

// TestServerOddInputs sends requests that are malformed or at the edge of
// what the spec allows: the server answers each with a 4xx, never a 5xx.
func TestServerOddInputs(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(server.NewHandler(fake.NewStore()))
	defer srv.Close()
	// open a session
	resp, _ := http.Post(srv.URL+"/v2/a/blobs/uploads/", "", nil)
	loc := resp.Header.Get("Location")
	resp.Body.Close()
	type rq struct {
		m, p, body string
		h          map[string]string
	}
	reqs := []rq{
		{"PATCH", loc, "abc", map[string]string{"Content-Range": "0-9223372036854775807"}},
		{"PATCH", loc, "abc", map[string]string{"Content-Range": "bytes */*"}},
		{"PUT", loc + "?digest=sha256:" + strings.Repeat("0", 64), "", nil},
		{"POST", "/v2/a/blobs/uploads/?digest=sha256:" + strings.Repeat("0", 64), "abc", nil},
		{"POST", "/v2/a/blobs/uploads/?mount=sha256:" + strings.Repeat("0", 64) + "&from=b", "", nil},
		{"POST", "/v2/a/blobs/uploads/?mount=foo", "", nil},
		{"GET", "/v2/a/blobs/sha256:" + strings.Repeat("0", 64), "", map[string]string{"Range": "bytes=0-"}},
		{"PUT", "/v2/a/manifests/t", "{}", map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json", "If-Match": "*"}},
		{"PUT", "/v2/a/manifests/t", "{\"schemaVersion\":2}", nil},
		{"PUT", "/v2/a/manifests/t", "null", map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}},
		{"PUT", "/v2/a/manifests/t", "[]", map[string]string{"Content-Type": "application/vnd.docker.distribution.manifest.list.v2+json"}},
		{"PUT", "/v2/a/manifests/t", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":null,"layers":[null]}`, map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}},
		{"PUT", "/v2/a/manifests/t", `{"schemaVersion":2,"manifests":[{"digest":"sha256:zz","size":-5}]}`, map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}},
		{"GET", "/v2/a/referrers/sha256:" + strings.Repeat("0", 64) + "?n=18446744073709551616", "", nil},
		{"GET", "/v2/a/tags/list?n=-1", "", nil},
		{"GET", "/v2/a/tags/list?next=%00", "", nil},
		{"GET", "/v2/_catalog?next=zzz", "", nil},
		{"GET", "/v2/a/tags/list?last=%ff", "", nil},
		{"DELETE", "/v2/a/manifests/sha999:abc", "", nil},
		{"GET", "/v2/a/blobs/uploads/~", "", nil},
		{"GET", "/v2/a/blobs/uploads/~AAAA", "", nil},
		{"GET", "/v2/a/blobs/uploads/..", "", nil},
		{"GET", "/v2/a/manifests/sha256:" + strings.Repeat("A", 64), "", nil},
		{"GET", "/v2/a/manifests/sha512:" + strings.Repeat("0", 128), "", nil},
	}
	for _, q := range reqs {
		u := q.p
		if strings.HasPrefix(u, "/") {
			u = srv.URL + u
		}
		req, _ := http.NewRequest(q.m, u, strings.NewReader(q.body))
		for k, v := range q.h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", q.m, q.p, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("%s %s -> %d %s", q.m, q.p, resp.StatusCode, strings.TrimSpace(string(b)))
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s -> %d", q.m, q.p, resp.StatusCode)
		}
	}
}
