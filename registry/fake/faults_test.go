package fake

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// faultBlob is the blob the fault tests serve, in repository "app".
var faultBlob = pattern(1000)

// faultServer serves a store that holds faultBlob in "app", with faults.
func faultServer(t *testing.T, opts ...ServerOption) (srv *Server, blobURL string) {
	t.Helper()
	srv = Serve(t, opts...)
	d := digest.FromBytes(faultBlob)
	if err := srv.Store.PutBlob(t.Context(), "app", ocispec.Descriptor{Digest: d, Size: int64(len(faultBlob))}, bytes.NewReader(faultBlob)); err != nil {
		t.Fatal(err)
	}
	return srv, srv.URL + "/v2/app/blobs/" + d.String()
}

// rawReply is a response read as far as the connection allowed.
type rawReply struct {
	status  int
	header  http.Header
	body    []byte
	readErr error // of reading the body
	took    time.Duration
}

// do sends a request with its own client, so no connection is shared
// with other tests, and reads the body until it ends or fails.
func do(t *testing.T, method, url string, body []byte) (rawReply, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return rawReply{}, err
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return rawReply{status: resp.StatusCode, header: resp.Header, body: b, readErr: rerr, took: time.Since(start)}, nil
}

// lastRequest returns the last entry of the request log.
func lastRequest(t *testing.T, srv *Server) Request {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("the request log is empty")
	}
	return reqs[len(reqs)-1]
}

func flipped(p []byte, off int) []byte {
	q := bytes.Clone(p)
	q[off] ^= 0xff
	return q
}

// TestFaultsResponse injects each fault into a blob GET (or HEAD) and
// checks what a plain net/http client gets, and what the request log says.
func TestFaultsResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      Fault
		method     string
		path       string // "" is the blob
		wantStatus int
		wantCode   string // of the error body
		wantHeader map[string]string
		wantBody   []byte        // nil: not checked
		wantErr    error         // of reading the body
		minTook    time.Duration // of the whole exchange
		logStatus  int
		logBytes   int64 // -1: not checked
		logFault   string
	}{
		{name: "503", fault: FailWith(503).On("GET", RouteBlob),
			wantStatus: 503, wantCode: "UNAVAILABLE", logStatus: 503, logBytes: -1, logFault: "status 503 on GET blob"},
		{name: "429 with Retry-After", fault: FailWith(429).RetryAfter(1500 * time.Millisecond),
			wantStatus: 429, wantCode: "TOOMANYREQUESTS", wantHeader: map[string]string{"Retry-After": "2"},
			logStatus: 429, logBytes: -1, logFault: "status 429 (Retry-After 2)"},
		{name: "404 on a blob", fault: FailWith(404).On("", RouteBlob),
			wantStatus: 404, wantCode: "BLOB_UNKNOWN", logStatus: 404, logBytes: -1, logFault: "status 404 on blob"},
		{name: "500 on HEAD has no body", fault: FailWith(500).On("head", RouteBlob), method: http.MethodHead,
			wantStatus: 500, wantBody: []byte{}, logStatus: 500, logBytes: 0, logFault: "status 500 on HEAD blob"},
		{name: "502 on the version check", fault: FailWith(502).On("GET", RoutePing), path: "/v2/",
			wantStatus: 502, wantCode: "UNKNOWN", logStatus: 502, logBytes: -1, logFault: "status 502 on GET ping"},
		{name: "delay", fault: Delay(100 * time.Millisecond),
			wantStatus: 200, wantBody: faultBlob, minTook: 100 * time.Millisecond,
			logStatus: 200, logBytes: 1000, logFault: "delay 100ms"},
		{name: "drop after 100 bytes", fault: DropAfter(100).On("GET", RouteBlob),
			wantStatus: 200, wantHeader: map[string]string{"Content-Length": "1000"}, wantErr: syscall.ECONNRESET,
			logStatus: 200, logBytes: 100, logFault: "drop after 100 bytes on GET blob"},
		{name: "drop at 0", fault: DropAfter(0),
			wantStatus: 200, wantBody: []byte{}, wantErr: syscall.ECONNRESET,
			logStatus: 200, logBytes: 0, logFault: "drop after 0 bytes"},
		{name: "drop after the whole body", fault: DropAfter(1000),
			wantStatus: 200, wantBody: faultBlob, logStatus: 200, logBytes: 1000, logFault: "drop after 1000 bytes"},
		{name: "truncate after 100 bytes", fault: Truncate(100).In("app"),
			wantStatus: 200, wantHeader: map[string]string{"Content-Length": "1000"}, wantBody: faultBlob[:100], wantErr: io.ErrUnexpectedEOF,
			logStatus: 200, logBytes: 100, logFault: `truncate after 100 bytes in "app"`},
		{name: "flip byte 10", fault: FlipByte(10).On("GET", RouteBlob),
			wantStatus: 200, wantBody: flipped(faultBlob, 10), logStatus: 200, logBytes: 1000, logFault: "flip byte 10 on GET blob"},
		{name: "flip past the end", fault: FlipByte(1000),
			wantStatus: 200, wantBody: faultBlob, logStatus: 200, logBytes: 1000, logFault: "flip byte 1000"},
		{name: "throttle", fault: Throttle(4000),
			wantStatus: 200, wantBody: faultBlob, minTook: 150 * time.Millisecond,
			logStatus: 200, logBytes: 1000, logFault: "throttle 4000 B/s"},
		{name: "another method", fault: FailWith(503).On("PUT", RouteBlob),
			wantStatus: 200, wantBody: faultBlob, logStatus: 200, logBytes: 1000},
		{name: "another route", fault: FailWith(503).On("GET", RouteManifest),
			wantStatus: 200, wantBody: faultBlob, logStatus: 200, logBytes: 1000},
		{name: "another repository", fault: FailWith(503).In("other"),
			wantStatus: 200, wantBody: faultBlob, logStatus: 200, logBytes: 1000},
		{name: "a repository on a route without one", fault: FailWith(503).In("app"), path: "/v2/",
			wantStatus: 200, logStatus: 200, logBytes: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, blobURL := faultServer(t, WithFaults(tc.fault))
			method, url := cmpOr(tc.method, http.MethodGet), blobURL
			if tc.path != "" {
				url = srv.URL + tc.path
			}
			got, err := do(t, method, url, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", method, url, err)
			}
			if got.status != tc.wantStatus {
				t.Errorf("status = %d, want %d", got.status, tc.wantStatus)
			}
			if tc.wantCode != "" {
				if code := errorCode(t, string(got.body)); code != tc.wantCode {
					t.Errorf("error code = %q, want %q", code, tc.wantCode)
				}
			}
			for k, v := range tc.wantHeader {
				if g := got.header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if tc.wantBody != nil && !bytes.Equal(got.body, tc.wantBody) {
				t.Errorf("body = %d bytes %.20q…, want %d bytes %.20q…", len(got.body), got.body, len(tc.wantBody), tc.wantBody)
			}
			if !errors.Is(got.readErr, tc.wantErr) {
				t.Errorf("reading the body: %v, want %v", got.readErr, tc.wantErr)
			}
			if tc.wantErr != nil && !bytes.HasPrefix(faultBlob, got.body) {
				t.Errorf("the %d bytes received before the cut are not the blob's first", len(got.body))
			}
			if got.took < tc.minTook {
				t.Errorf("the request took %v, want at least %v", got.took, tc.minTook)
			}
			e := lastRequest(t, srv) // a cut request is logged before its connection closes
			if e.Status != tc.logStatus || (tc.logBytes >= 0 && e.Bytes != tc.logBytes) || e.Fault != tc.logFault {
				t.Errorf("logged status %d, %d bytes, fault %q; want %d, %d, %q", e.Status, e.Bytes, e.Fault, tc.logStatus, tc.logBytes, tc.logFault)
			}
			if e.Duration < tc.minTook {
				t.Errorf("logged duration %v, want at least %v", e.Duration, tc.minTook)
			}
		})
	}
}

// waitLog waits until the request log holds n requests, for requests whose
// client went away before the server answered.
func waitLog(t *testing.T, srv *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(srv.Requests()) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("the request log holds %d requests, want %d", len(srv.Requests()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestFaultsRequestBody injects body faults into the body of an upload
// (the PUT that ends it) and checks that the registry stores nothing
// corrupt.
func TestFaultsRequestBody(t *testing.T) {
	t.Parallel()
	data := pattern(500)
	d := digest.FromBytes(data)
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int    // 0: the request fails
		wantCode   string // of the error body
		minTook    time.Duration
		stored     bool
		logStatus  int
	}{
		{name: "flip", fault: FlipByte(3), wantStatus: 400, wantCode: "DIGEST_INVALID", logStatus: 400},
		{name: "truncate", fault: Truncate(10), wantStatus: 400, logStatus: 400},
		{name: "truncate past the end", fault: Truncate(500), wantStatus: 201, stored: true, logStatus: 201},
		{name: "drop", fault: DropAfter(10), logStatus: 0},
		{name: "throttle", fault: Throttle(2000), wantStatus: 201, minTook: 150 * time.Millisecond, stored: true, logStatus: 201},
		{name: "flip the last byte", fault: FlipByte(499), wantStatus: 400, wantCode: "DIGEST_INVALID", logStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Serve(t, WithFaults(tc.fault.On("PUT", RouteUpload)))
			start := do1(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/", nil)
			if start.status != http.StatusAccepted {
				t.Fatalf("POST = %d, want 202", start.status)
			}
			loc := srv.URL + start.header.Get("Location")
			sep := "?"
			if strings.Contains(loc, "?") {
				sep = "&"
			}
			got, err := do(t, http.MethodPut, loc+sep+"digest="+d.String(), data)
			switch {
			case tc.wantStatus == 0 && err == nil:
				t.Errorf("PUT = %d, want a failed request", got.status)
			case tc.wantStatus != 0 && err != nil:
				t.Fatalf("PUT: %v", err)
			case got.status != tc.wantStatus:
				t.Errorf("PUT = %d %s, want %d", got.status, got.body, tc.wantStatus)
			}
			if tc.wantCode != "" {
				if code := errorCode(t, string(got.body)); code != tc.wantCode {
					t.Errorf("error code = %q, want %q", code, tc.wantCode)
				}
			}
			if got.took < tc.minTook {
				t.Errorf("the PUT took %v, want at least %v", got.took, tc.minTook)
			}
			if _, err := srv.Store.StatBlob(t.Context(), "app", d); (err == nil) != tc.stored {
				t.Errorf("StatBlob after the PUT: %v, want stored %v", err, tc.stored)
			}
			if e := lastRequest(t, srv); e.Status != tc.logStatus || e.Fault == "" || e.Method != http.MethodPut {
				t.Errorf("logged %s %d, fault %q; want PUT %d and the fault", e.Method, e.Status, e.Fault, tc.logStatus)
			}
		})
	}
}

// do1 is do for requests that must not fail.
func do1(t *testing.T, method, url string, body []byte) rawReply {
	t.Helper()
	r, err := do(t, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}
