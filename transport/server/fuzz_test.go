package server_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/fixtures"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/server"
)

// FuzzHandler sends arbitrary requests to a Handler over a seeded store:
// whatever the path, header and body, the answer is never a 5xx, and
// nothing panics.
func FuzzHandler(f *testing.F) {
	methods := []string{"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "PROPFIND"}
	store := fake.NewStore()
	var vars map[string]string
	f.Add(uint8(0), "/v2/", "", "", "")
	f.Add(uint8(0), "/v2/demo/manifests/v1", "If-None-Match", `"sha256:x"`, "")
	f.Add(uint8(2), "/v2/demo/manifests/v9", "Content-Type", "application/vnd.oci.image.manifest.v1+json", `{"schemaVersion":2}`)
	f.Add(uint8(2), "/v2/demo/manifests/v1", "If-Match", `W/"sha256:00", *`, "{manifestbody}")
	f.Add(uint8(2), "/v2/demo/manifests/{referrer}", "Content-Type", "", "{referrerbody}")
	f.Add(uint8(0), "/v2/demo/blobs/{blob}", "Range", "bytes=3-", "")
	f.Add(uint8(0), "/v2/demo/blobs/{blob}", "Range", "bytes=-3,4-5", "")
	f.Add(uint8(0), "/v2/demo/blobs/{blob}", "If-Range", `"{blob}"`, "")
	f.Add(uint8(3), "/v2/demo/blobs/uploads/?digest={new}", "", "", "new blob")
	f.Add(uint8(3), "/v2/demo/blobs/uploads/?mount={mountblob}&from=src", "", "", "")
	f.Add(uint8(3), "/v2/demo/blobs/uploads/?mount={blob}", "", "", "")
	f.Add(uint8(4), "/v2/demo/blobs/uploads/{upload}", "Content-Range", "5-7", "fgh")
	f.Add(uint8(2), "/v2/demo/blobs/uploads/{upload}?digest={abcde}", "Content-Range", "bytes 5-5/*", "f")
	f.Add(uint8(5), "/v2/src/blobs/uploads/{srcupload}", "", "", "")
	f.Add(uint8(0), "/v2/demo/tags/list?n=1&last=v1", "", "", "")
	f.Add(uint8(0), "/v2/_catalog?n=1&next=demo", "", "", "")
	f.Add(uint8(0), "/v2/demo/referrers/{manifest}?artifactType=x&n=0", "", "", "")
	f.Add(uint8(7), "/v2/a/../b//c/%2e%2e/%2F/manifests/%00", "", "", "")
	f.Add(uint8(0), "/v2/demo/blobs/uploads/~aHR0cHM6Ly94", "", "", "")
	for i, raw := range fixtures.Files(f) { // real-world manifests, put as they are
		mt, _ := image.DetectMediaType(raw)
		f.Add(uint8(2), fmt.Sprintf("/v2/demo/manifests/fixture-%d", i), "Content-Type", mt, string(raw))
	}
	f.Fuzz(func(t *testing.T, m uint8, path, key, value, body string) {
		if vars == nil {
			vars = seed(t, store)
		}
		rep := replacer(vars)
		u, err := url.ParseRequestURI(rep.Replace(path))
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Skip()
		}
		req := httptest.NewRequest("GET", "/", strings.NewReader(rep.Replace(body)))
		req.Method = methods[int(m)%len(methods)]
		req.URL, req.RequestURI = u, path
		if key != "" {
			req.Header.Set(key, rep.Replace(value))
		}
		log := &logBuffer{}
		h := server.NewHandler(store, server.WithLogger(slog.New(slog.NewTextHandler(log, nil))), server.WithMaxManifestSize(1<<16))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q (%s: %q) = %d %s\n%s", req.Method, path, key, value, rec.Code, rec.Body, log)
		}
		if rec.Header().Get("Docker-Distribution-API-Version") != "registry/2.0" {
			t.Fatalf("%s %q: no Docker-Distribution-API-Version", req.Method, path)
		}
	})
}
