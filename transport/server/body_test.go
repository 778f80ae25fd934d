package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// brokenReader reads data, then fails with err.
type brokenReader struct {
	data string
	err  error
}

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// newSrvInProcess returns a handler over a seeded store, its
// placeholders and its log, for requests served without a network.
func newSrvInProcess(t *testing.T) (http.Handler, *strings.Replacer, *logBuffer) {
	t.Helper()
	store := fake.NewStore()
	rep := replacer(seed(t, store))
	log := &logBuffer{}
	return server.NewHandler(store, server.WithLogger(slog.New(slog.NewTextHandler(log, nil)))), rep, log
}

// TestServerBodyErrors checks that a body that breaks or lies about its
// length is answered as the client's fault.
func TestServerBodyErrors(t *testing.T) {
	t.Parallel()
	reset := errors.New("connection reset by peer")
	tests := []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		body     io.Reader
		length   int64 // Content-Length; -1 unknown
		maxBytes int64 // if positive, the body is an http.MaxBytesReader
		status   int
		code     transport.Code
	}{
		{name: "single post short", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", body: &brokenReader{"new", io.ErrUnexpectedEOF}, length: 8, status: 400, code: transport.CodeSizeInvalid},
		{name: "single post broken", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", body: &brokenReader{"new", reset}, length: -1, status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "single post too large", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", body: strings.NewReader("new blob"), length: -1, maxBytes: 3, status: 413, code: transport.CodeSizeInvalid},
		{name: "single post longer than declared", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", body: strings.NewReader("new blob"), length: 3, status: 400, code: transport.CodeSizeInvalid},
		{name: "patch short", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", body: &brokenReader{"fg", io.ErrUnexpectedEOF}, length: 3, status: 400, code: transport.CodeSizeInvalid},
		{name: "patch broken", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", body: &brokenReader{"fg", reset}, length: -1, status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "patch chunked shorter than its range", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: map[string]string{"Content-Range": "5-9"}, body: strings.NewReader("fgh"), length: -1, status: 400, code: transport.CodeSizeInvalid},
		{name: "patch chunked longer than its range", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: map[string]string{"Content-Range": "5-7"}, body: strings.NewReader("fghij"), length: -1, status: 400, code: transport.CodeSizeInvalid},
		{name: "patch chunked as long as its range", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", header: map[string]string{"Content-Range": "5-7"}, body: strings.NewReader("fgh"), length: -1, status: 202},
		{name: "close broken", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest={abcdefgh}", body: &brokenReader{"fgh", reset}, length: -1, status: 400, code: transport.CodeBlobUploadInvalid},
		{name: "manifest broken", method: "PUT", path: "/v2/demo/manifests/v9", body: &brokenReader{"{", reset}, length: -1, status: 400, code: transport.CodeManifestInvalid},
		{name: "manifest short", method: "PUT", path: "/v2/demo/manifests/v9", body: &brokenReader{"{", io.ErrUnexpectedEOF}, length: 50, status: 400, code: transport.CodeSizeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, rep, log := newSrvInProcess(t)
			req := httptest.NewRequest(tc.method, rep.Replace(tc.path), tc.body)
			req.ContentLength = tc.length
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			if tc.maxBytes > 0 {
				req.Body = http.MaxBytesReader(rec, req.Body, tc.maxBytes)
			}
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.status)
			}
			if tc.code != "" {
				if got := errorCode(t, rec.Body.Bytes()); got != tc.code {
					t.Errorf("error code = %s, want %s (%s)", got, tc.code, rec.Body)
				}
			}
			if strings.Contains(log.String(), "level=ERROR") {
				t.Errorf("logged an error:\n%s", log)
			}
		})
	}
}

func TestServerClientGone(t *testing.T) {
	t.Parallel()
	h, rep, log := newSrvInProcess(t)
	for _, path := range []string{"/v2/demo/tags/list", "/v2/demo/manifests/v1", rep.Replace("/v2/demo/blobs/uploads/{upload}")} {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 499 {
			t.Errorf("GET %s after the client went away = %d, want 499", path, rec.Code)
		}
	}
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("a client going away was logged as an error:\n%s", log)
	}
}

// TestServerSessionLockWait checks that a request waiting for a session
// that another request holds gives up when its client goes away.
func TestServerSessionLockWait(t *testing.T) {
	t.Parallel()
	h, rep, _ := newSrvInProcess(t)
	path := rep.Replace("/v2/demo/blobs/uploads/{upload}")
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("PATCH", path, pr))
		first <- rec.Code
	}()
	if _, err := pw.Write([]byte("fg")); err != nil { // the PATCH now holds the session
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(ctx))
	if rec.Code != 499 {
		t.Errorf("GET of a busy session after the client left = %d, want 499", rec.Code)
	}
	pw.Close()
	if code := <-first; code != 202 {
		t.Errorf("PATCH = %d, want 202", code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if got := rec.Header().Get("Range"); rec.Code != 204 || got != "0-6" {
		t.Errorf("GET of the session = %d, Range %q; want 204, 0-6", rec.Code, got)
	}
}
