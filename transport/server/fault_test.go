package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// newSrvStub returns a seeded stub, its placeholders and a server over it.
func newSrvStub(t *testing.T, allow5xx bool, edit func(*stubBackend)) (*stubBackend, *strings.Replacer, *httptest.Server, *logBuffer) {
	t.Helper()
	stub := &stubBackend{Store: fake.NewStore()}
	rep := replacer(seed(t, stub.Store))
	edit(stub)
	srv, log := serve(t, stub, allow5xx)
	return stub, rep, srv, log
}

func TestServerBackendFailures(t *testing.T) {
	t.Parallel()
	disk := errors.New("disk on fire")
	tests := []struct {
		name   string
		edit   func(*stubBackend)
		method string
		path   string
		status int
		code   transport.Code
		logged string // in the log, at ERROR
	}{
		{name: "panic", edit: func(s *stubBackend) { s.panicGetManifest = true }, method: "GET", path: "/v2/demo/manifests/v1", status: 500, code: "UNKNOWN", logged: "the backend exploded"},
		{name: "plain error", edit: func(s *stubBackend) { s.listTagsErr = fmt.Errorf("list: %w", disk) }, method: "GET", path: "/v2/demo/tags/list", status: 500, code: "UNKNOWN", logged: "disk on fire"},
		{name: "plain error on HEAD", edit: func(s *stubBackend) { s.statBlobErr = disk }, method: "HEAD", path: "/v2/demo/blobs/{blob}", status: 500, logged: "disk on fire"},
		{name: "timeout", edit: func(s *stubBackend) { s.listReposErr = context.DeadlineExceeded }, method: "GET", path: "/v2/_catalog", status: 504, code: "UNKNOWN", logged: "deadline exceeded"},
		{name: "error without code", edit: func(s *stubBackend) { s.listReposErr = &transport.Error{Message: "no code"} }, method: "GET", path: "/v2/_catalog", status: 500, code: "UNKNOWN", logged: "no code"},
		{name: "mount failure", edit: func(s *stubBackend) { s.mountErr = disk }, method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}&from=src", status: 500, code: "UNKNOWN", logged: "disk on fire"},
		{name: "coded error", edit: func(s *stubBackend) { s.listTagsErr = transport.ErrDenied }, method: "GET", path: "/v2/demo/tags/list", status: 403, code: transport.CodeDenied},
		{name: "detail that is no JSON", edit: func(s *stubBackend) { s.listTagsErr = &transport.Error{Code: transport.CodeDenied, Detail: func() {}} }, method: "GET", path: "/v2/demo/tags/list", status: 403, code: transport.CodeDenied},
		{name: "detail", edit: func(s *stubBackend) {
			s.listTagsErr = &transport.Error{Code: transport.CodeTooManyRequests, Message: "slow down", Detail: map[string]int{"retry": 5}}
		}, method: "GET", path: "/v2/demo/tags/list", status: 429, code: transport.CodeTooManyRequests},
		{name: "catalog unsupported", edit: func(s *stubBackend) { s.listReposErr = transport.ErrUnsupported }, method: "GET", path: "/v2/_catalog", status: 404, code: transport.CodeUnsupported},
		{name: "referrers unsupported", edit: func(s *stubBackend) { s.referrersErr = transport.ErrUnsupported }, method: "GET", path: "/v2/demo/referrers/{manifest}", status: 404, code: transport.CodeUnsupported},
		{name: "referrers failure", edit: func(s *stubBackend) { s.referrersErr = transport.ErrDenied }, method: "GET", path: "/v2/demo/referrers/{manifest}", status: 403, code: transport.CodeDenied},
		{name: "referrers of an unknown repository", edit: func(s *stubBackend) { s.referrersErr = transport.ErrNameUnknown }, method: "GET", path: "/v2/demo/referrers/{manifest}", status: 200},
		{name: "mount unsupported", edit: func(s *stubBackend) { s.mountErr = transport.ErrUnsupported }, method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}&from=src", status: 202},
		{name: "mount denied", edit: func(s *stubBackend) { s.mountErr = transport.ErrDenied }, method: "POST", path: "/v2/demo/blobs/uploads/?mount={mountblob}&from=src", status: 202},
		{name: "tag delete unsupported everywhere", edit: func(s *stubBackend) { s.tagDeleteErr = transport.ErrUnsupported }, method: "DELETE", path: "/v2/demo/manifests/nope", status: 404, code: transport.CodeManifestUnknown},
		{name: "delete denied", edit: func(s *stubBackend) { s.tagDeleteErr = transport.ErrDenied }, method: "DELETE", path: "/v2/demo/manifests/v1", status: 403, code: transport.CodeDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, rep, srv, log := newSrvStub(t, true, tc.edit)
			resp := doRequest(t, srv, tc.method, rep.Replace(tc.path), nil, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, resp.StatusCode, resp.body, tc.status)
			}
			if tc.code != "" {
				if got := errorCode(t, resp.body); got != tc.code {
					t.Errorf("error code = %s, want %s", got, tc.code)
				}
			}
			if tc.status >= 500 && strings.Contains(string(resp.body), "fire") {
				t.Errorf("the 5xx body %s leaks the backend's error", resp.body)
			}
			errLines := 0
			for _, l := range strings.Split(log.String(), "\n") {
				if strings.Contains(l, "level=ERROR") {
					errLines++
					if !strings.Contains(l, tc.logged) {
						t.Errorf("error log %q lacks %q", l, tc.logged)
					}
				}
			}
			if want := map[bool]int{true: 1}[tc.logged != ""]; errLines != want {
				t.Errorf("%d error lines logged, want %d:\n%s", errLines, want, log.String())
			}
		})
	}
}

// TestServerTagDeleterFallback deletes a tag through the backend's
// TagDeleter when its DeleteManifest cannot, also when the backend is
// under a decorator that follows the Unwrap convention.
func TestServerTagDeleterFallback(t *testing.T) {
	t.Parallel()
	for name, wrap := range map[string]func(transport.Transport) transport.Transport{
		"backend":   func(b transport.Transport) transport.Transport { return b },
		"decorated": func(b transport.Transport) transport.Transport { return unwrapping{b} },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stub := &stubBackend{Store: fake.NewStore(), tagDeleteErr: transport.ErrUnsupported}
			seed(t, stub.Store)
			srv, _ := serve(t, wrap(stub), false)
			wantStatus(t, doRequest(t, srv, "DELETE", "/v2/demo/manifests/v2", nil, ""), 202)
			wantStatus(t, doRequest(t, srv, "GET", "/v2/demo/manifests/v2", nil, ""), 404)
			wantStatus(t, doRequest(t, srv, "GET", "/v2/demo/manifests/v1", nil, ""), 200)
			if got := stub.deletedTags; len(got) != 1 || got[0] != "demo:v2" {
				t.Errorf("DeleteTag calls = %q, want [demo:v2]", got)
			}
		})
	}
}

// unwrapping is a decorator of a Transport that follows the Unwrap
// convention of the transport package.
type unwrapping struct{ transport.Transport }

func (u unwrapping) Unwrap() transport.Transport { return u.Transport }

func TestServerPlainBlobReader(t *testing.T) {
	t.Parallel()
	_, rep, srv, _ := newSrvStub(t, false, func(s *stubBackend) { s.plainBlobs = true })
	for rng, want := range map[string]string{"bytes=6-": "world", "bytes=0-4": "hello", "bytes=-1": "d"} {
		resp := doRequest(t, srv, "GET", rep.Replace("/v2/demo/blobs/{blob}"), map[string]string{"Range": rng}, "")
		wantStatus(t, resp, 206)
		if string(resp.body) != want {
			t.Errorf("Range %s = %q, want %q", rng, resp.body, want)
		}
	}
}

func TestServerFiltersReferrers(t *testing.T) {
	t.Parallel()
	_, rep, srv, _ := newSrvStub(t, false, func(s *stubBackend) { s.allReferrers = true })
	resp := doRequest(t, srv, "GET", rep.Replace("/v2/demo/referrers/{manifest}?artifactType=application/vnd.example.sig"), nil, "")
	wantStatus(t, resp, 200)
	body := string(resp.body)
	if !strings.Contains(body, rep.Replace("{referrer2}")) || strings.Contains(body, rep.Replace("{referrer}\"")) {
		t.Errorf("filtered referrers = %s, want only the signature", body)
	}
	if got := resp.Header.Get("OCI-Filters-Applied"); got != "artifactType" {
		t.Errorf("OCI-Filters-Applied = %q, want artifactType", got)
	}
}

func TestServerEncodedSessionIDs(t *testing.T) {
	t.Parallel()
	const prefix = "https://upstream.example/v2/demo/blobs/uploads/?_state=x&id="
	stub, _, srv, _ := newSrvStub(t, false, func(s *stubBackend) { s.idPrefix = prefix })
	resp := doRequest(t, srv, "POST", "/v2/demo/blobs/uploads/", nil, "")
	wantStatus(t, resp, 202)
	loc := resp.Header.Get("Location")
	seg := loc[strings.LastIndexByte(loc, '/')+1:]
	if !strings.HasPrefix(seg, "~") || strings.ContainsAny(seg, "/?&=%") {
		t.Fatalf("Location = %q, want one encoded segment", loc)
	}
	if got := resp.Header.Get("Docker-Upload-UUID"); got != seg {
		t.Errorf("Docker-Upload-UUID = %q, want %q", got, seg)
	}
	wantStatus(t, doRequest(t, srv, "PATCH", loc, map[string]string{"Content-Range": "0-3"}, "data"), 202)
	wantStatus(t, doRequest(t, srv, "PUT", loc+"?digest="+digest.FromString("data").String(), nil, ""), 201)
	checkBlob(t, srv, "demo", "data")
	if n := stub.Uploads(); n != 2 { // seedStore's two
		t.Errorf("Uploads() = %d, want 2", n)
	}
}

func TestServerLogger(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	seed(t, store)
	srv, log := serve(t, store, false)
	wantStatus(t, doRequest(t, srv, "GET", "/v2/demo/tags/list?last=hidden-cursor", nil, ""), 200)
	wantStatus(t, doRequest(t, srv, "GET", "/v2/demo/manifests/nope", nil, ""), 404)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log = %q, want 2 lines", lines)
	}
	for i, want := range []string{"method=GET path=/v2/demo/tags/list status=200 bytes=", "path=/v2/demo/manifests/nope status=404"} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "level=INFO") || !strings.Contains(lines[i], "duration=") {
			t.Errorf("log line %q lacks %q", lines[i], want)
		}
	}
	if strings.Contains(log.String(), "hidden-cursor") {
		t.Errorf("the log shows the query: %s", log.String())
	}
}

func TestServerWithoutLogger(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(server.NewHandler(fake.NewStore()))
	t.Cleanup(srv.Close)
	wantStatus(t, doRequest(t, srv, "GET", "/v2/", nil, ""), 200)
}

func TestNewHandlerNil(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewHandler(nil) did not panic")
		}
	}()
	server.NewHandler(nil)
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

func TestServerMaxManifestSize(t *testing.T) {
	t.Parallel()
	h := server.NewHandler(fake.NewStore(), server.WithMaxManifestSize(100))
	for _, declared := range []int64{-1, 1 << 20} {
		body := &countingReader{r: strings.NewReader(strings.Repeat(" ", 1<<20))}
		req := httptest.NewRequest("PUT", "/v2/demo/manifests/v1", body)
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 413 {
			t.Fatalf("PUT of 1 MiB (Content-Length %d) = %d, want 413", declared, rec.Code)
		}
		if got := errorCode(t, rec.Body.Bytes()); got != transport.CodeManifestInvalid {
			t.Errorf("error code = %s, want MANIFEST_INVALID", got)
		}
		if body.read > 101 {
			t.Errorf("the handler read %d bytes of the body, want at most 101", body.read)
		}
	}
	// The default is 4 MiB: a manifest of 1 MiB gets past the limit.
	req := httptest.NewRequest("PUT", "/v2/demo/manifests/v1", strings.NewReader(strings.Repeat(" ", 1<<20)+"{}"))
	rec := httptest.NewRecorder()
	server.NewHandler(fake.NewStore(), server.WithMaxManifestSize(0)).ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Errorf("PUT of 1 MiB with the default limit = %d, want 400 (schemaVersion)", rec.Code)
	}
	// Zero is that default: 5 MiB is too large; negative is no limit.
	for _, tc := range []struct {
		n    int64
		want int
	}{{0, 413}, {-1, 400}} {
		req := httptest.NewRequest("PUT", "/v2/demo/manifests/v1", strings.NewReader(strings.Repeat(" ", 5<<20)+"{}"))
		rec := httptest.NewRecorder()
		server.NewHandler(fake.NewStore(), server.WithMaxManifestSize(tc.n)).ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("PUT of 5 MiB with WithMaxManifestSize(%d) = %d, want %d", tc.n, rec.Code, tc.want)
		}
	}
}
