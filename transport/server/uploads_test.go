package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

func TestServerUploads(t *testing.T) {
	t.Parallel()
	session := map[string]string{
		"Location": "/v2/demo/blobs/uploads/{upload}", "Docker-Upload-UUID": "{upload}", "Range": "0-4",
	}
	cr := func(v string) map[string]string { return map[string]string{"Content-Range": v} }
	runCalls(t, []handlerCall{
		{name: "start", method: "POST", path: "/v2/demo/blobs/uploads/", status: 202, empty: true,
			prefix:  map[string]string{"Location": "/v2/demo/blobs/uploads/"},
			headers: map[string]string{"Range": "0-0", "OCI-Chunk-Min-Length": ""}},
		{name: "start without slash", method: "POST", path: "/v2/demo/blobs/uploads", status: 202, prefix: map[string]string{"Location": "/v2/demo/blobs/uploads/"}},
		{name: "start in a new repository", method: "POST", path: "/v2/new/repo/blobs/uploads/", status: 202, prefix: map[string]string{"Location": "/v2/new/repo/blobs/uploads/"}},
		{name: "start with a body", method: "POST", path: "/v2/demo/blobs/uploads/", body: "ignored", status: 202, headers: map[string]string{"Range": "0-0"}},
		{name: "single post", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", body: "new blob", status: 201, empty: true, headers: map[string]string{
			"Location": "/v2/demo/blobs/{new}", "Docker-Content-Digest": "{new}",
		}},
		{name: "single post of a present blob", method: "POST", path: "/v2/demo/blobs/uploads/?digest={blob}", body: "hello world", status: 201},
		{name: "single post wrong digest", method: "POST", path: "/v2/demo/blobs/uploads/?digest={missing}", body: "new blob", status: 400, code: transport.CodeDigestInvalid},
		{name: "single post bad digest", method: "POST", path: "/v2/demo/blobs/uploads/?digest=sha256:zz", body: "new blob", status: 400, code: transport.CodeDigestInvalid},
		{name: "single post empty digest", method: "POST", path: "/v2/demo/blobs/uploads/?digest=", status: 400, code: transport.CodeDigestInvalid},
		{name: "mount", method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}&from=src", status: 201, empty: true, headers: map[string]string{
			"Location": "/v2/demo/blobs/{mountblob}", "Docker-Content-Digest": "{mountblob}",
		}},
		{name: "mount unknown blob", method: "POST", path: "/v2/demo/blobs/uploads/?mount={missing}&from=src", status: 202, prefix: map[string]string{"Location": "/v2/demo/blobs/uploads/"}},
		{name: "mount from unknown repository", method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}&from=nope", status: 202},
		{name: "mount without from, present", method: "POST", path: "/v2/demo/blobs/uploads/?mount={blob}", status: 201, headers: map[string]string{"Location": "/v2/demo/blobs/{blob}"}},
		{name: "mount without from, absent", method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}", status: 202},
		{name: "mount with empty from", method: "POST", path: "/v2/demo/blobs/uploads/?mount={blob}&from=", status: 201},
		{name: "mount into a new repository", method: "POST", path: "/v2/fresh/blobs/uploads/?mount={mountblob}", status: 202},
		{name: "mount bad digest", method: "POST", path: "/v2/demo/blobs/uploads/?mount=sha256:zz&from=src", status: 400, code: transport.CodeDigestInvalid},
		{name: "mount bad from", method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}&from=Bad/Name", status: 400, code: transport.CodeNameInvalid},

		{name: "status", method: "GET", path: "/v2/demo/blobs/uploads/{upload}", status: 204, empty: true, headers: session},
		{name: "status HEAD", method: "HEAD", path: "/v2/demo/blobs/uploads/{upload}", status: 204, headers: session},
		{name: "status of an empty session", method: "GET", path: "/v2/src/blobs/uploads/{srcupload}", status: 204, headers: map[string]string{"Range": "0-0"}},
		{name: "patch", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("5-7"), body: "fgh", status: 202, empty: true, headers: map[string]string{
			"Location": "/v2/demo/blobs/uploads/{upload}", "Range": "0-7", "Docker-Upload-UUID": "{upload}", "Content-Length": "0",
		}},
		{name: "patch bytes prefix", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("bytes 5-7/*"), body: "fgh", status: 202, headers: map[string]string{"Range": "0-7"}},
		{name: "patch without range", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", body: "fgh", status: 202, headers: map[string]string{"Range": "0-7"}},
		{name: "patch empty", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", status: 202, headers: map[string]string{"Range": "0-4"}},
		{name: "patch out of order", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("0-2"), body: "fgh", status: 416, code: transport.CodeBlobUploadInvalid, headers: session},
		{name: "patch past the end", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("6-8"), body: "fgh", status: 416, code: transport.CodeBlobUploadInvalid, headers: map[string]string{"Range": "0-4"}},
		{name: "patch range garbage", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("five-seven"), body: "fgh", status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "patch range reversed", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("7-5"), body: "fgh", status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "patch range bad total", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("5-7/x"), body: "fgh", status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "patch range of the wrong length", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: cr("5-9"), body: "fgh", status: 400, code: transport.CodeSizeInvalid},
		{name: "close", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest={abcde}", status: 201, empty: true, headers: map[string]string{
			"Location": "/v2/demo/blobs/{abcde}", "Docker-Content-Digest": "{abcde}",
		}},
		{name: "close with the last chunk", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest={abcdefgh}", header: cr("5-7"), body: "fgh", status: 201},
		{name: "close with a misplaced chunk", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest={abcdefgh}", header: cr("4-6"), body: "fgh", status: 416, code: transport.CodeBlobUploadInvalid},
		{name: "close wrong digest", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest={missing}", status: 400, code: transport.CodeDigestInvalid},
		{name: "close without digest", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}", status: 400, code: transport.CodeDigestInvalid},
		{name: "close md5", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest=md5:d41d8cd98f00b204e9800998ecf8427e", status: 400, code: transport.CodeDigestInvalid},
		{name: "cancel", method: "DELETE", path: "/v2/demo/blobs/uploads/{upload}", status: 204, empty: true},
		{name: "unknown session", method: "GET", path: "/v2/demo/blobs/uploads/0123abcd", status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "session of another repository", method: "GET", path: "/v2/demo/blobs/uploads/{srcupload}", status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "patch session of another repository", method: "PATCH", path: "/v2/demo/blobs/uploads/{srcupload}", body: "x", status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "session ID with a dot", method: "GET", path: "/v2/demo/blobs/uploads/a.b", status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "session ID bad encoding", method: "GET", path: "/v2/demo/blobs/uploads/~!!", status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "session ID empty encoding", method: "DELETE", path: "/v2/demo/blobs/uploads/~", status: 404, code: transport.CodeBlobUploadUnknown},
		{name: "post to a session", method: "POST", path: "/v2/demo/blobs/uploads/{upload}", status: 405, code: transport.CodeUnsupported, headers: map[string]string{"Allow": "GET, HEAD, PATCH, PUT, DELETE"}},
		{name: "get the upload start", method: "GET", path: "/v2/demo/blobs/uploads/", status: 405, code: transport.CodeUnsupported, headers: map[string]string{"Allow": "POST"}},
	})
}

func TestServerLists(t *testing.T) {
	t.Parallel()
	runCalls(t, []handlerCall{
		{name: "tags", method: "GET", path: "/v2/demo/tags/list", status: 200, bodyIs: `{"name":"demo","tags":["v1","v2","v3"]}`, headers: map[string]string{"Link": "", "Content-Type": "application/json"}},
		{name: "tags HEAD", method: "HEAD", path: "/v2/demo/tags/list", status: 200, empty: true},
		{name: "tags page", method: "GET", path: "/v2/demo/tags/list?n=2", status: 200, bodyIs: `{"name":"demo","tags":["v1","v2"]}`, headers: map[string]string{
			"Link": `</v2/demo/tags/list?last=v2&n=2>; rel="next"`,
		}},
		{name: "tags last page", method: "GET", path: "/v2/demo/tags/list?n=2&last=v2", status: 200, bodyIs: `{"name":"demo","tags":["v3"]}`, headers: map[string]string{"Link": ""}},
		{name: "tags after last", method: "GET", path: "/v2/demo/tags/list?last=v1", status: 200, bodyIs: `{"name":"demo","tags":["v2","v3"]}`},
		{name: "tags after the end", method: "GET", path: "/v2/demo/tags/list?last=zzz", status: 200, bodyIs: `{"name":"demo","tags":[]}`},
		{name: "tags n=0", method: "GET", path: "/v2/demo/tags/list?n=0", status: 200, bodyIs: `{"name":"demo","tags":[]}`, headers: map[string]string{"Link": ""}},
		{name: "tags n=0 of an unknown repository", method: "GET", path: "/v2/nope/tags/list?n=0", status: 404, code: transport.CodeNameUnknown},
		{name: "tags huge n", method: "GET", path: "/v2/demo/tags/list?n=9223372036854775807", status: 200, bodyIs: `{"name":"demo","tags":["v1","v2","v3"]}`},
		{name: "tags n=-1", method: "GET", path: "/v2/demo/tags/list?n=-1", status: 400, code: transport.CodeSizeInvalid},
		{name: "tags n=abc", method: "GET", path: "/v2/demo/tags/list?n=abc", status: 400, code: transport.CodeSizeInvalid},
		{name: "tags n empty", method: "GET", path: "/v2/demo/tags/list?n=", status: 400, code: transport.CodeSizeInvalid},
		{name: "tags n overflow", method: "GET", path: "/v2/demo/tags/list?n=99999999999999999999", status: 400, code: transport.CodeSizeInvalid},
		{name: "tags of an unknown repository", method: "GET", path: "/v2/nope/tags/list", status: 404, code: transport.CodeNameUnknown},
		{name: "tags DELETE", method: "DELETE", path: "/v2/demo/tags/list", status: 405, code: transport.CodeUnsupported},

		{name: "catalog", method: "GET", path: "/v2/_catalog", status: 200, bodyIs: `{"repositories":["demo","src"]}`},
		{name: "catalog page", method: "GET", path: "/v2/_catalog?n=1", status: 200, bodyIs: `{"repositories":["demo"]}`, headers: map[string]string{
			"Link": `</v2/_catalog?last=demo&n=1>; rel="next"`,
		}},
		{name: "catalog last page", method: "GET", path: "/v2/_catalog?n=1&last=demo", status: 200, bodyIs: `{"repositories":["src"]}`, headers: map[string]string{"Link": ""}},
		{name: "catalog n=0", method: "GET", path: "/v2/_catalog?n=0", status: 200, bodyIs: `{"repositories":[]}`},
		{name: "catalog n=x", method: "GET", path: "/v2/_catalog?n=x", status: 400, code: transport.CodeSizeInvalid},
		{name: "catalog POST", method: "POST", path: "/v2/_catalog", status: 405, code: transport.CodeUnsupported},

		{name: "referrers", method: "GET", path: "/v2/demo/referrers/{manifest}", status: 200,
			headers: map[string]string{"Content-Type": ociIndex, "OCI-Filters-Applied": ""},
			bodyHas: []string{`"schemaVersion":2`, `"mediaType":"` + ociIndex + `"`, "{referrer}", "{referrer2}", `"artifactType":"application/vnd.example.sbom"`, `"org.example.kind":"application/vnd.example.sig"`}},
		{name: "referrers filtered", method: "GET", path: "/v2/demo/referrers/{manifest}?artifactType=application/vnd.example.sbom", status: 200,
			headers: map[string]string{"OCI-Filters-Applied": "artifactType"}, bodyHas: []string{"{referrer}"}, bodyNot: []string{"{referrer2}"}},
		{name: "referrers filtered to none", method: "GET", path: "/v2/demo/referrers/{manifest}?artifactType=application/none", status: 200,
			headers: map[string]string{"OCI-Filters-Applied": "artifactType"}, bodyHas: []string{`"manifests":[]`}},
		{name: "referrers of an unknown subject", method: "GET", path: "/v2/demo/referrers/{missing}", status: 200, bodyHas: []string{`"manifests":[]`}},
		{name: "referrers in an unknown repository", method: "GET", path: "/v2/nope/referrers/{manifest}", status: 200, bodyHas: []string{`"manifests":[]`}},
		{name: "referrers page", method: "GET", path: "/v2/demo/referrers/{manifest}?n=1", status: 200, prefix: map[string]string{"Link": "</v2/demo/referrers/{manifest}?last=sha256%3A"}},
		{name: "referrers n=0", method: "GET", path: "/v2/demo/referrers/{manifest}?n=0", status: 200, bodyHas: []string{`"manifests":[]`}, headers: map[string]string{"Link": ""}},
		{name: "referrers n bad", method: "GET", path: "/v2/demo/referrers/{manifest}?n=-5", status: 400, code: transport.CodeSizeInvalid},
		{name: "referrers bad digest", method: "GET", path: "/v2/demo/referrers/sha256:zz", status: 400, code: transport.CodeDigestInvalid},
		{name: "referrers of a tag", method: "GET", path: "/v2/demo/referrers/v1", status: 400, code: transport.CodeDigestInvalid},
		{name: "referrers PUT", method: "PUT", path: "/v2/demo/referrers/{manifest}", status: 405, code: transport.CodeUnsupported},
	})
}

func TestServerRefusesHugeChunkRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentRange string
	}{
		{name: "length overflows int64", contentRange: "0-9223372036854775807"},
		{name: "length past 1 TiB", contentRange: "0-1099511627776"},
		{name: "prefixed", contentRange: "bytes 0-9223372036854775807/*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := serve(t, fake.NewStore(), false)
			resp := doRequest(t, srv, "POST", "/v2/demo/blobs/uploads/", nil, "")
			wantStatus(t, resp, 202)
			loc := resp.Header.Get("Location")
			// No Content-Length (a chunked body), so only the range bounds
			// the chunk.
			req, err := http.NewRequestWithContext(t.Context(), "PATCH", srv.URL+loc, io.MultiReader(strings.NewReader("abc")))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Range", tc.contentRange)
			presp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(presp.Body)
			presp.Body.Close()
			if presp.StatusCode != http.StatusRequestedRangeNotSatisfiable || presp.Header.Get("Range") != "0-0" {
				t.Errorf("PATCH with Content-Range %s = %d, Range %q (%s); want 416, 0-0", tc.contentRange, presp.StatusCode, presp.Header.Get("Range"), body)
			}
			// Nothing was written: the session can still take its bytes.
			resp = doRequest(t, srv, "PUT", loc+"?digest="+digest.FromString("abc").String(), map[string]string{"Content-Range": "0-2"}, "abc")
			wantStatus(t, resp, 201)
			checkBlob(t, srv, "demo", "abc")
		})
	}
}
