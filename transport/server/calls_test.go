package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// handlerCall is one request to a Handler over a freshly seeded store (see
// seedStore for the placeholders) and what its response must be.
type handlerCall struct {
	name    string
	method  string
	path    string
	header  map[string]string
	body    string
	status  int
	code    transport.Code    // the error code of a 4xx answer
	headers map[string]string // exact header values; "" means absent
	prefix  map[string]string // header value prefixes
	bodyIs  string            // the exact body, if not empty
	bodyHas []string
	bodyNot []string
	empty   bool // the body must be empty
}

func runCalls(t *testing.T, calls []handlerCall) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store := fake.NewStore()
			rep := replacer(seed(t, store))
			srv, _ := serve(t, store, false)
			hdr := map[string]string{}
			for k, v := range c.header {
				hdr[k] = rep.Replace(v)
			}
			resp := doRequest(t, srv, c.method, rep.Replace(c.path), hdr, rep.Replace(c.body))
			what := c.method + " " + c.path
			if resp.StatusCode != c.status {
				t.Fatalf("%s = %d %s, want %d", what, resp.StatusCode, resp.body, c.status)
			}
			if v := resp.Header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
				t.Errorf("%s: Docker-Distribution-API-Version = %q, want registry/2.0", what, v)
			}
			switch {
			case resp.StatusCode >= 500:
				t.Errorf("%s = %d, want no 5xx", what, resp.StatusCode)
			case resp.StatusCode >= 400 && c.method == http.MethodHead:
				if len(resp.body) != 0 {
					t.Errorf("%s: body %q, want none for HEAD", what, resp.body)
				}
			case resp.StatusCode >= 400:
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type = %q, want application/json", what, ct)
				}
				if c.code == "" {
					t.Fatalf("%s: the case names no error code; the body is %s", what, resp.body)
				}
				if got := errorCode(t, resp.body); got != c.code {
					t.Errorf("%s: error code = %s, want %s (body %s)", what, got, c.code, resp.body)
				}
			}
			for k, want := range c.headers {
				if got := resp.Header.Get(k); got != rep.Replace(want) {
					t.Errorf("%s: %s = %q, want %q", what, k, got, rep.Replace(want))
				}
			}
			for k, want := range c.prefix {
				if got := resp.Header.Get(k); !strings.HasPrefix(got, rep.Replace(want)) {
					t.Errorf("%s: %s = %q, want a prefix %q", what, k, got, rep.Replace(want))
				}
			}
			body := string(resp.body)
			if c.bodyIs != "" && body != rep.Replace(c.bodyIs) {
				t.Errorf("%s: body = %q, want %q", what, body, rep.Replace(c.bodyIs))
			}
			if c.empty && body != "" {
				t.Errorf("%s: body = %q, want none", what, body)
			}
			for _, s := range c.bodyHas {
				if !strings.Contains(body, rep.Replace(s)) {
					t.Errorf("%s: body %q lacks %q", what, body, rep.Replace(s))
				}
			}
			for _, s := range c.bodyNot {
				if strings.Contains(body, rep.Replace(s)) {
					t.Errorf("%s: body %q has %q", what, body, rep.Replace(s))
				}
			}
		})
	}
}

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	ociIndex    = "application/vnd.oci.image.index.v1+json"
)

func TestServerBaseAndManifests(t *testing.T) {
	t.Parallel()
	ct := map[string]string{"Content-Type": ociManifest}
	runCalls(t, []handlerCall{
		{name: "version check", method: "GET", path: "/v2/", status: 200, bodyIs: "{}", headers: map[string]string{"Content-Type": "application/json"}},
		{name: "version check without slash", method: "GET", path: "/v2", status: 200, bodyIs: "{}"},
		{name: "version check HEAD", method: "HEAD", path: "/v2/", status: 200, empty: true},
		{name: "version check POST", method: "POST", path: "/v2/", status: 405, code: transport.CodeUnsupported, headers: map[string]string{"Allow": "GET, HEAD"}},

		{name: "get manifest by tag", method: "GET", path: "/v2/demo/manifests/v1", status: 200, bodyIs: "{manifestbody}", headers: map[string]string{
			"Content-Type": ociManifest, "Content-Length": "{manifestlen}", "Docker-Content-Digest": "{manifest}", "ETag": `"{manifest}"`,
		}},
		{name: "get manifest by digest", method: "GET", path: "/v2/demo/manifests/{manifest}", status: 200, bodyIs: "{manifestbody}", headers: map[string]string{"Docker-Content-Digest": "{manifest}"}},
		{name: "get manifest with an escaped colon", method: "GET", path: "/v2/demo/manifests/sha256%3A{hex}", status: 404, code: transport.CodeManifestUnknown},
		{name: "head manifest", method: "HEAD", path: "/v2/demo/manifests/v1", status: 200, empty: true, headers: map[string]string{
			"Content-Type": ociManifest, "Content-Length": "{manifestlen}", "Docker-Content-Digest": "{manifest}",
		}},
		{name: "get manifest not modified", method: "GET", path: "/v2/demo/manifests/v1", header: map[string]string{"If-None-Match": `"{manifest}"`}, status: 304, empty: true},
		{name: "get manifest modified", method: "GET", path: "/v2/demo/manifests/v1", header: map[string]string{"If-None-Match": `"{missing}"`}, status: 200, bodyIs: "{manifestbody}"},
		{name: "get unknown tag", method: "GET", path: "/v2/demo/manifests/nope", status: 404, code: transport.CodeManifestUnknown},
		{name: "get unknown digest", method: "GET", path: "/v2/demo/manifests/{missing}", status: 404, code: transport.CodeManifestUnknown},
		{name: "get manifest of unknown repository", method: "GET", path: "/v2/nope/manifests/v1", status: 404, code: transport.CodeNameUnknown},
		{name: "head unknown manifest", method: "HEAD", path: "/v2/demo/manifests/nope", status: 404, empty: true},
		{name: "manifest route in a name", method: "GET", path: "/v2/demo/manifests/x/manifests/v1", status: 404, code: transport.CodeNameUnknown},

		{name: "put manifest by tag", method: "PUT", path: "/v2/demo/manifests/v9", header: ct, body: "{manifestbody}", status: 201, empty: true, headers: map[string]string{
			"Location": "/v2/demo/manifests/{manifest}", "Docker-Content-Digest": "{manifest}", "OCI-Subject": "",
		}},
		{name: "put manifest by digest", method: "PUT", path: "/v2/demo/manifests/{manifest}", header: ct, body: "{manifestbody}", status: 201, headers: map[string]string{"Docker-Content-Digest": "{manifest}"}},
		{name: "put manifest in a new repository", method: "PUT", path: "/v2/fresh/manifests/v1", header: ct, body: "{manifestbody}", status: 400, code: transport.CodeManifestBlobUnknown},
		{name: "put manifest without content type", method: "PUT", path: "/v2/demo/manifests/v9", body: "{manifestbody}", status: 201},
		{name: "put manifest with content type parameters", method: "PUT", path: "/v2/demo/manifests/v9", header: map[string]string{"Content-Type": ociManifest + "; charset=utf-8"}, body: "{manifestbody}", status: 201},
		{name: "put manifest with subject", method: "PUT", path: "/v2/demo/manifests/{referrer}", header: ct, body: "{referrerbody}", status: 201, headers: map[string]string{
			"OCI-Subject": "{manifest}", "Location": "/v2/demo/manifests/{referrer}",
		}},
		{name: "put manifest of the wrong media type", method: "PUT", path: "/v2/demo/manifests/v9", header: map[string]string{"Content-Type": ociIndex}, body: "{manifestbody}", status: 400, code: transport.CodeManifestInvalid},
		{name: "put manifest with a missing blob", method: "PUT", path: "/v2/demo/manifests/v9", header: ct, body: "{badmanifest}", status: 400, code: transport.CodeManifestBlobUnknown},
		{name: "put manifest under the wrong digest", method: "PUT", path: "/v2/demo/manifests/{missing}", header: ct, body: "{manifestbody}", status: 400, code: transport.CodeDigestInvalid},
		{name: "put manifest not JSON", method: "PUT", path: "/v2/demo/manifests/v9", header: ct, body: "not json", status: 400, code: transport.CodeManifestInvalid},
		{name: "put empty manifest", method: "PUT", path: "/v2/demo/manifests/v9", header: ct, status: 400, code: transport.CodeManifestInvalid},
		{name: "put manifest too large", method: "PUT", path: "/v2/demo/manifests/v9", header: ct, body: strings.Repeat(" ", 4<<20) + "{manifestbody}", status: 413, code: transport.CodeManifestInvalid},

		{name: "if-match current", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"Content-Type": ociManifest, "If-Match": `"{manifest}"`}, body: "{manifestbody}", status: 201},
		{name: "if-match unquoted", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `{manifest}`}, body: "{manifestbody}", status: 201},
		{name: "if-match weak", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `W/"{manifest}"`}, body: "{manifestbody}", status: 201},
		{name: "if-match stale", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `"{missing}"`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "if-match no digest", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `"abc"`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "if-match empty", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `""`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "if-match unknown tag", method: "PUT", path: "/v2/demo/manifests/v9", header: map[string]string{"If-Match": `"{manifest}"`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "if-match any", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `*`}, body: "{manifestbody}", status: 201},
		{name: "if-match any of an unknown tag", method: "PUT", path: "/v2/demo/manifests/v9", header: map[string]string{"If-Match": `*`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "if-match list", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `"{missing}", "{manifest}"`}, body: "{manifestbody}", status: 201},
		{name: "if-match list stale", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": `"{missing}", "{blob}"`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "if-match any in an unknown repository", method: "PUT", path: "/v2/nope/manifests/v1", header: map[string]string{"If-Match": `*`}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},

		{name: "delete tag", method: "DELETE", path: "/v2/demo/manifests/v1", status: 202, empty: true},
		{name: "delete manifest", method: "DELETE", path: "/v2/demo/manifests/{manifest}", status: 202},
		{name: "delete unknown tag", method: "DELETE", path: "/v2/demo/manifests/nope", status: 404, code: transport.CodeManifestUnknown},
		{name: "patch manifest", method: "PATCH", path: "/v2/demo/manifests/v1", status: 405, code: transport.CodeUnsupported, headers: map[string]string{"Allow": "GET, HEAD, PUT, DELETE"}},
	})
}

func TestServerBlobs(t *testing.T) {
	t.Parallel()
	rng := func(v string) map[string]string { return map[string]string{"Range": v} }
	runCalls(t, []handlerCall{
		{name: "get blob", method: "GET", path: "/v2/demo/blobs/{blob}", status: 200, bodyIs: "hello world", headers: map[string]string{
			"Content-Length": "11", "Content-Type": "application/octet-stream", "Docker-Content-Digest": "{blob}", "ETag": `"{blob}"`, "Accept-Ranges": "bytes",
		}},
		{name: "get blob with an escaped colon", method: "GET", path: "/v2/demo/blobs/sha256%3A{hex}", status: 200, bodyIs: "hello world"},
		{name: "head blob", method: "HEAD", path: "/v2/demo/blobs/{blob}", status: 200, empty: true, headers: map[string]string{
			"Content-Length": "11", "Docker-Content-Digest": "{blob}", "Accept-Ranges": "bytes",
		}},
		{name: "range", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=0-4"), status: 206, bodyIs: "hello", headers: map[string]string{
			"Content-Range": "bytes 0-4/11", "Content-Length": "5",
		}},
		{name: "range open", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=6-"), status: 206, bodyIs: "world", headers: map[string]string{"Content-Range": "bytes 6-10/11"}},
		{name: "range suffix", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=-5"), status: 206, bodyIs: "world"},
		{name: "range suffix longer than the blob", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=-50"), status: 206, bodyIs: "hello world"},
		{name: "range past the end", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=6-100"), status: 206, bodyIs: "world", headers: map[string]string{"Content-Range": "bytes 6-10/11"}},
		{name: "range last byte", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=10-10"), status: 206, bodyIs: "d"},
		{name: "range reversed", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=5-1"), status: 416, code: transport.CodeSizeInvalid, headers: map[string]string{"Content-Range": "bytes */11"}},
		{name: "range garbage", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=abc"), status: 416, code: transport.CodeSizeInvalid, headers: map[string]string{"Content-Range": "bytes */11"}},
		{name: "range no dash", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=5"), status: 416, code: transport.CodeSizeInvalid},
		{name: "range negative", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=-1-2"), status: 416, code: transport.CodeSizeInvalid},
		{name: "range no unit", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("0-4"), status: 416, code: transport.CodeSizeInvalid},
		{name: "range unsatisfiable", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=11-"), status: 416, code: transport.CodeSizeInvalid, headers: map[string]string{"Content-Range": "bytes */11"}},
		{name: "range empty suffix", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=-0"), status: 416, code: transport.CodeSizeInvalid},
		{name: "range overflow", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=0-99999999999999999999"), status: 416, code: transport.CodeSizeInvalid},
		{name: "range huge", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=" + strings.Repeat("9", 100<<10)), status: 416, code: transport.CodeSizeInvalid},
		{name: "ranges several", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("bytes=0-1,3-4"), status: 200, bodyIs: "hello world"},
		{name: "range other unit", method: "GET", path: "/v2/demo/blobs/{blob}", header: rng("items=0-1"), status: 200, bodyIs: "hello world"},
		{name: "range with HEAD", method: "HEAD", path: "/v2/demo/blobs/{blob}", header: rng("bytes=0-4"), status: 200, headers: map[string]string{"Content-Length": "11"}},
		{name: "if-range matches", method: "GET", path: "/v2/demo/blobs/{blob}", header: map[string]string{"Range": "bytes=0-4", "If-Range": `"{blob}"`}, status: 206, bodyIs: "hello"},
		{name: "if-range stale", method: "GET", path: "/v2/demo/blobs/{blob}", header: map[string]string{"Range": "bytes=0-4", "If-Range": `"{missing}"`}, status: 200, bodyIs: "hello world"},
		{name: "if-range date", method: "GET", path: "/v2/demo/blobs/{blob}", header: map[string]string{"Range": "bytes=0-4", "If-Range": "Mon, 02 Jan 2006 15:04:05 GMT"}, status: 200, bodyIs: "hello world"},
		{name: "blob not modified", method: "GET", path: "/v2/demo/blobs/{blob}", header: map[string]string{"If-None-Match": `"{blob}"`}, status: 304, empty: true},
		{name: "get unknown blob", method: "GET", path: "/v2/demo/blobs/{missing}", status: 404, code: transport.CodeBlobUnknown},
		{name: "get blob of another repository", method: "GET", path: "/v2/demo/blobs/{mountblob}", status: 404, code: transport.CodeBlobUnknown},
		{name: "head unknown blob", method: "HEAD", path: "/v2/demo/blobs/{missing}", status: 404, empty: true},
		{name: "delete blob", method: "DELETE", path: "/v2/demo/blobs/{blob}", status: 202, empty: true},
		{name: "delete unknown blob", method: "DELETE", path: "/v2/demo/blobs/{missing}", status: 404, code: transport.CodeBlobUnknown},
		{name: "put blob", method: "PUT", path: "/v2/demo/blobs/{blob}", status: 405, code: transport.CodeUnsupported, headers: map[string]string{"Allow": "GET, HEAD, DELETE"}},
	})
}
