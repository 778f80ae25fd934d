package server_test

import (
	"strings"
	"testing"

	"github.com/regkit/regkit/transport"
)

// TestServerMalformed sends requests no client should send: each gets a
// 4xx with the spec's code, never a 5xx or a panic (serve fails the
// test if the handler logged one).
func TestServerMalformed(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	runCalls(t, []handlerCall{
		{name: "upper-case name", method: "GET", path: "/v2/A/B/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "dot-dot in name", method: "GET", path: "/v2/a/../b/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "escaped dot-dot", method: "GET", path: "/v2/%2e%2e/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "escaped dot-dot in a name", method: "GET", path: "/v2/demo/%2E%2E/demo/blobs/{blob}", status: 400, code: transport.CodeNameInvalid},
		{name: "dot in name", method: "GET", path: "/v2/./demo/tags/list", status: 400, code: transport.CodeNameInvalid},
		{name: "double slash", method: "GET", path: "/v2/a//b/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "empty name", method: "GET", path: "/v2//manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "empty name of tags", method: "GET", path: "/v2//tags/list", status: 400, code: transport.CodeNameInvalid},
		{name: "trailing slash in name", method: "POST", path: "/v2/demo//blobs/uploads/", status: 400, code: transport.CodeNameInvalid},
		{name: "escaped slash", method: "GET", path: "/v2/demo%2Fx/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "escaped slash in a tag", method: "GET", path: "/v2/demo/manifests/v1%2fx", status: 400, code: transport.CodeNameInvalid},
		{name: "escaped NUL in a name", method: "GET", path: "/v2/de%00mo/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "escaped NUL in a tag", method: "GET", path: "/v2/demo/manifests/v1%00", status: 400, code: transport.CodeTagInvalid},
		{name: "escaped NUL in a digest", method: "GET", path: "/v2/demo/blobs/{blob}%00", status: 400, code: transport.CodeDigestInvalid},
		{name: "name too long", method: "GET", path: "/v2/" + long + "/manifests/v1", status: 400, code: transport.CodeNameInvalid},
		{name: "name with a space", method: "GET", path: "/v2/de%20mo/tags/list", status: 400, code: transport.CodeNameInvalid},
		{name: "name with a colon", method: "GET", path: "/v2/demo:5000/tags/list", status: 400, code: transport.CodeNameInvalid},
		{name: "bad tag", method: "GET", path: "/v2/demo/manifests/bad%20tag", status: 400, code: transport.CodeTagInvalid},
		{name: "tag too long", method: "PUT", path: "/v2/demo/manifests/" + strings.Repeat("t", 129), body: "{manifestbody}", status: 400, code: transport.CodeTagInvalid},
		{name: "empty ref", method: "GET", path: "/v2/demo/manifests/", status: 400, code: transport.CodeTagInvalid},
		{name: "short digest ref", method: "GET", path: "/v2/demo/manifests/sha256:zz", status: 400, code: transport.CodeDigestInvalid},
		{name: "md5 ref", method: "DELETE", path: "/v2/demo/manifests/md5:d41d8cd98f00b204e9800998ecf8427e", status: 400, code: transport.CodeDigestInvalid},
		{name: "upper-case hex", method: "GET", path: "/v2/demo/blobs/sha256:" + strings.Repeat("A", 64), status: 400, code: transport.CodeDigestInvalid},
		{name: "short digest blob", method: "GET", path: "/v2/demo/blobs/sha256:zz", status: 400, code: transport.CodeDigestInvalid},
		{name: "md5 blob", method: "HEAD", path: "/v2/demo/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", status: 400, empty: true},
		{name: "tag as blob", method: "GET", path: "/v2/demo/blobs/latest", status: 400, code: transport.CodeDigestInvalid},
		{name: "empty digest", method: "DELETE", path: "/v2/demo/blobs/", status: 400, code: transport.CodeDigestInvalid},
		{name: "not v2", method: "GET", path: "/v1/_ping", status: 404, code: transport.CodeUnsupported},
		{name: "root", method: "GET", path: "/", status: 404, code: transport.CodeUnsupported},
		{name: "v2 prefix of another word", method: "GET", path: "/v2x/demo/tags/list", status: 404, code: transport.CodeUnsupported},
		{name: "no endpoint", method: "GET", path: "/v2/demo", status: 404, code: transport.CodeUnsupported},
		{name: "unknown endpoint", method: "GET", path: "/v2/demo/unknown/x", status: 404, code: transport.CodeUnsupported},
		{name: "tags with a trailing slash", method: "GET", path: "/v2/demo/tags/list/", status: 404, code: transport.CodeUnsupported},
		{name: "catalog in a name", method: "GET", path: "/v2/_catalog/x", status: 404, code: transport.CodeUnsupported},
		{name: "PROPFIND", method: "PROPFIND", path: "/v2/demo/manifests/v1", status: 405, code: transport.CodeUnsupported, headers: map[string]string{"Allow": "GET, HEAD, PUT, DELETE"}},
		{name: "OPTIONS", method: "OPTIONS", path: "/v2/demo/blobs/{blob}", status: 405, code: transport.CodeUnsupported},
		{name: "lower-case method", method: "get", path: "/v2/", status: 405, code: transport.CodeUnsupported},
		{name: "huge If-Match", method: "PUT", path: "/v2/demo/manifests/v1", header: map[string]string{"If-Match": strings.Repeat("x", 100<<10)}, body: "{manifestbody}", status: 412, code: transport.CodePreconditionFailed},
		{name: "huge Content-Type", method: "PUT", path: "/v2/demo/manifests/v9", header: map[string]string{"Content-Type": strings.Repeat("x", 100<<10)}, body: "{manifestbody}", status: 400, code: transport.CodeManifestInvalid},
		{name: "huge Content-Range", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: map[string]string{"Content-Range": "5-" + strings.Repeat("9", 100<<10)}, body: "x", status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "huge page cursor", method: "GET", path: "/v2/demo/tags/list?last=" + strings.Repeat("z", 100<<10), status: 200, bodyIs: `{"name":"demo","tags":[]}`},
		{name: "huge session ID", method: "GET", path: "/v2/demo/blobs/uploads/" + strings.Repeat("a", 100<<10), status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "malformed query", method: "GET", path: "/v2/demo/tags/list?n=%zz", status: 200},
		{name: "mount and digest", method: "POST", path: "/v2/demo/blobs/uploads/?mount=x&digest=y", status: 400, code: transport.CodeDigestInvalid},
		{name: "mount of a bad name", method: "POST", path: "/v2/Demo/blobs/uploads/?mount={blob}&from=demo", status: 400, code: transport.CodeNameInvalid},
		{name: "single post short body", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", header: map[string]string{"Content-Range": "0-0"}, body: "new", status: 400, code: transport.CodeDigestInvalid},
	})
}
