package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/transport"
)

func TestStatBlob(t *testing.T) {
	t.Parallel()
	d := digest.FromString("blob")
	tests := []struct {
		name     string
		status   int
		header   string
		wantSize int64
		wantErr  error
	}{
		{name: "found", status: 200, header: d.String(), wantSize: 4},
		{name: "found without header", status: 200, wantSize: 4},
		{name: "unknown", status: 404, wantErr: transport.ErrBlobUnknown},
		{name: "wrong digest", status: 200, header: digest.FromString("x").String(), wantErr: transport.ErrDigestInvalid},
		{name: "garbage digest", status: 200, header: "garbage", wantErr: transport.ErrDigestInvalid},
		{name: "other algorithm", status: 200, header: digest.SHA512.FromString("blob").String(), wantSize: 4},
		{name: "denied", status: 403, wantErr: transport.ErrDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			mux.HandleFunc("HEAD /v2/a/b/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("d") != d.String() {
					t.Errorf("HEAD %s", r.PathValue("d"))
				}
				if tc.header != "" {
					w.Header().Set("Docker-Content-Digest", tc.header)
				}
				w.Header().Set("Content-Length", "4")
				w.WriteHeader(tc.status)
			})
			desc, err := c.StatBlob(t.Context(), "a/b", d)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("StatBlob = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (desc.Digest != d || desc.Size != tc.wantSize) {
				t.Errorf("StatBlob = %+v", desc)
			}
		})
	}
}

func TestGetBlob(t *testing.T) {
	t.Parallel()
	blob := []byte("the blob's bytes")
	d := digest.FromBytes(blob)
	mux, c := newMux(t)
	mux.HandleFunc("GET /v2/x/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "identity" {
			t.Errorf("Accept-Encoding = %q", r.Header.Get("Accept-Encoding"))
		}
		switch r.PathValue("d") {
		case d.String():
			w.Header().Set("Docker-Content-Digest", d.String())
			w.Write(blob)
		case digest.FromString("liar").String():
			w.Header().Set("Docker-Content-Digest", d.String())
			w.Write(blob)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	rc, desc, err := c.GetBlob(t.Context(), "x", d)
	if err != nil {
		t.Fatalf("GetBlob = %v", err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, blob) || desc.Size != int64(len(blob)) || desc.Digest != d {
		t.Errorf("GetBlob = %q, %+v, %v", got, desc, err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := rc.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
	if _, _, err := c.GetBlob(t.Context(), "x", digest.FromString("absent")); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Errorf("GetBlob(absent) = %v, want ErrBlobUnknown", err)
	}
	if _, _, err := c.GetBlob(t.Context(), "x", digest.FromString("liar")); !errors.Is(err, transport.ErrDigestInvalid) {
		t.Errorf("GetBlob(header for another blob) = %v, want ErrDigestInvalid", err)
	}
}

func TestRedirectDropsAuthorization(t *testing.T) {
	t.Parallel()
	blob := []byte("stored elsewhere")
	var cdnCalls atomic.Int32
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnCalls.Add(1)
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("object storage got Authorization %q", a)
		}
		if r.URL.Query().Get("sig") != "secret" {
			t.Errorf("signed query lost: %s", r.URL)
		}
		w.Write(blob)
	}))
	t.Cleanup(cdn.Close)
	var reg *httptest.Server
	var regAuth atomic.Int32
	reg = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer registry-token" {
			regAuth.Add(1)
		}
		if r.URL.Path == "/v2/x/blobs/hop" {
			// A redirect within the registry keeps the credentials.
			http.Redirect(w, r, reg.URL+"/v2/x/blobs/"+digest.FromBytes(blob).String(), http.StatusTemporaryRedirect)
			return
		}
		http.Redirect(w, r, cdn.URL+"/bucket/blob?sig=secret", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(reg.Close)
	c := newTestClient(t, reg)
	// Both servers are on 127.0.0.1, where Go itself would keep the header.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, reg.URL+"/v2/x/blobs/hop", nil)
	req.Header.Set("Authorization", "Bearer registry-token")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, blob) || cdnCalls.Load() != 1 || regAuth.Load() != 2 {
		t.Errorf("redirected GET = %q (%d object storage calls, %d registry calls with credentials; want 1, 2)", got, cdnCalls.Load(), regAuth.Load())
	}
	// And through GetBlob.
	rc, _, err := c.GetBlob(t.Context(), "x", digest.FromBytes(blob))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, blob) {
		t.Errorf("GetBlob via redirect = %q", got)
	}
}

func TestRedirectSkipsTheCallersRoundTripper(t *testing.T) {
	t.Parallel()
	blob := []byte("stored elsewhere")
	var leaked atomic.Value
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization"))
		w.Write(blob)
	}))
	t.Cleanup(cdn.Close)
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cdn.URL+"/blob?sig=1", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(reg.Close)
	// A round tripper that signs every request it sees, as oauth2's does.
	signing := rtFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer registry-token")
		return http.DefaultTransport.RoundTrip(r)
	})
	var viaRedirectRT atomic.Int32
	counting := rtFunc(func(r *http.Request) (*http.Response, error) {
		viaRedirectRT.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	for _, tc := range []struct {
		name string
		opts []Option
		want int32 // requests through counting
	}{
		{"default redirect transport", nil, 0},
		{"WithRedirectRoundTripper", []Option{WithRedirectRoundTripper(counting)}, 1},
	} {
		viaRedirectRT.Store(0)
		leaked.Store("")
		opts := append([]Option{WithRoundTripper(signing), WithTLS(TLSOff)}, tc.opts...)
		c, err := New(strings.TrimPrefix(reg.URL, "http://"), opts...)
		if err != nil {
			t.Fatal(err)
		}
		rc, _, err := c.GetBlob(t.Context(), "app", digest.FromBytes(blob))
		if err != nil {
			t.Fatalf("%s: GetBlob: %v", tc.name, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, blob) {
			t.Errorf("%s: GetBlob = %q", tc.name, got)
		}
		if a := leaked.Load().(string); a != "" {
			t.Errorf("%s: object storage got Authorization %q", tc.name, a)
		}
		if n := viaRedirectRT.Load(); n != tc.want {
			t.Errorf("%s: %d requests through the redirect round tripper, want %d", tc.name, n, tc.want)
		}
	}
	if _, err := New("r.example", WithRedirectRoundTripper(nil)); err == nil {
		t.Error("WithRedirectRoundTripper(nil) accepted")
	}
}

// cutAfter writes an HTTP response with the full Content-Length but only n
// bytes of body, then drops the connection.
func cutAfter(t *testing.T, w http.ResponseWriter, status int, header http.Header, body []byte, n int) {
	t.Helper()
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n", status, http.StatusText(status), len(body))
	header.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(body[:n])
	buf.Flush()
}

func TestGetBlobResumes(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("0123456789"), 10000)
	d := digest.FromBytes(blob)
	total := len(blob)
	tests := []struct {
		name string
		// cuts[i] is where response i breaks off (relative to its start); -1 serves it whole.
		cuts      []int
		ignore    bool // answer Range requests with 200
		badRange  bool // answer with a Content-Range that starts elsewhere
		wantErr   string
		wantGets  int
		wantRange tri
	}{
		{name: "two breaks", cuts: []int{30000, 20000, -1}, wantGets: 3, wantRange: triYes},
		{name: "no break", cuts: []int{-1}, wantGets: 1, wantRange: triUnknown},
		{name: "gives up after three resumes", cuts: []int{10, 10, 10, 10, 10}, wantErr: "resumed 3 times", wantGets: 4, wantRange: triYes},
		{name: "range ignored", cuts: []int{1000, -1}, ignore: true, wantErr: "whole blob", wantGets: 2, wantRange: triNo},
		{name: "range elsewhere", cuts: []int{1000, -1}, badRange: true, wantErr: "does not continue", wantGets: 2, wantRange: triUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			var gets atomic.Int32
			var off atomic.Int64
			mux.HandleFunc("GET /v2/x/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
				i := int(gets.Add(1)) - 1
				start := int(off.Load())
				if want := "bytes=" + strconv.Itoa(start) + "-"; i > 0 && r.Header.Get("Range") != want {
					t.Errorf("request %d: Range = %q, want %q", i, r.Header.Get("Range"), want)
				}
				h := http.Header{"Docker-Content-Digest": {d.String()}}
				status, body := http.StatusOK, blob
				if i > 0 && !tc.ignore {
					status, body = http.StatusPartialContent, blob[start:]
					rs := start
					if tc.badRange {
						rs++
					}
					h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rs, total-1, total))
				}
				cut := tc.cuts[min(i, len(tc.cuts)-1)]
				if cut < 0 {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					for k, v := range h {
						w.Header()[k] = v
					}
					w.WriteHeader(status)
					w.Write(body)
					return
				}
				off.Add(int64(cut))
				cutAfter(t, w, status, h, body, cut)
			})
			rc, desc, err := c.GetBlob(t.Context(), "x", d)
			if err != nil {
				t.Fatalf("GetBlob = %v", err)
			}
			defer rc.Close()
			if desc.Size != int64(total) {
				t.Errorf("size = %d, want %d", desc.Size, total)
			}
			got, err := io.ReadAll(rc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("read = %v, want an error with %q", err, tc.wantErr)
				}
			} else if err != nil || !bytes.Equal(got, blob) {
				t.Errorf("read %d bytes, %v; want the blob", len(got), err)
			}
			if int(gets.Load()) != tc.wantGets || c.caps.rangeReq.get() != tc.wantRange {
				t.Errorf("%d GETs, range capability %v; want %d, %v", gets.Load(), c.caps.rangeReq.get(), tc.wantGets, tc.wantRange)
			}
		})
	}
}

func TestGetBlobResumeRemembersNoRange(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("x"), 5000)
	d := digest.FromBytes(blob)
	mux, c := newMux(t)
	c.caps.rangeReq.set(triNo)
	var gets atomic.Int32
	mux.HandleFunc("GET /v2/x/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		cutAfter(t, w, 200, http.Header{}, blob, 100)
	})
	rc, _, err := c.GetBlob(t.Context(), "x", d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "does not serve ranges") {
		t.Errorf("read = %v, want an error saying the registry does not serve ranges", err)
	}
	if gets.Load() != 1 {
		t.Errorf("%d GETs, want 1: no resume where ranges are known not to work", gets.Load())
	}
}

func TestGetBlobResumesAtFinalURL(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("abcdefgh"), 4000)
	d := digest.FromBytes(blob)
	var cdnGets atomic.Int32
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cdnGets.Add(1) == 1 {
			cutAfter(t, w, 200, http.Header{}, blob, 7000)
			return
		}
		if r.Header.Get("Range") != "bytes=7000-" {
			t.Errorf("Range = %q", r.Header.Get("Range"))
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(blob))
	}))
	t.Cleanup(cdn.Close)
	var regGets atomic.Int32
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		regGets.Add(1)
		http.Redirect(w, r, cdn.URL+"/blob", http.StatusFound)
	}))
	t.Cleanup(reg.Close)
	c := newTestClient(t, reg)
	rc, _, err := c.GetBlob(t.Context(), "x", d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if regGets.Load() != 1 || cdnGets.Load() != 2 {
		t.Errorf("%d registry GETs, %d object storage GETs; want 1, 2", regGets.Load(), cdnGets.Load())
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 10-99/100", 10, 100, true},
		{"bytes 10-99/*", 10, -1, true},
		{"bytes 10-99", 0, 0, false},
		{"items 10-99/100", 0, 0, false},
		{"bytes x-99/100", 0, 0, false},
		{"bytes 10-99/x", 0, 0, false},
		{"bytes -1-99/100", 0, 0, false},
	}
	for _, tc := range tests {
		start, total, ok := parseContentRange(tc.in)
		if start != tc.start || total != tc.total || ok != tc.ok {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %d, %d, %v", tc.in, start, total, ok, tc.start, tc.total, tc.ok)
		}
	}
}

func TestDeleteBlob(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	d := digest.FromString("b")
	tr.blobs[d] = []byte("b")
	if err := c.DeleteBlob(t.Context(), "x", d); err != nil {
		t.Fatalf("DeleteBlob = %v", err)
	}
	if err := c.DeleteBlob(t.Context(), "x", d); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Errorf("DeleteBlob(again) = %v, want ErrBlobUnknown", err)
	}
}

func TestMountBlob(t *testing.T) {
	t.Parallel()
	d := digest.FromString("layer")
	tests := []struct {
		name     string
		status   int  // answer to the mount POST
		inSource bool // HEAD in the source finds it
		wantErr  error
		wantLog  []string
	}{
		{name: "mounted", status: 201, wantLog: []string{"POST /v2/dst/blobs/uploads/?from=src&mount=" + url.QueryEscape(d.String())}},
		{name: "not mounted, source has it", status: 202, inSource: true, wantErr: transport.ErrUnsupported, wantLog: []string{
			"POST /v2/dst/blobs/uploads/?from=src&mount=" + url.QueryEscape(d.String()), "DELETE /v2/dst/blobs/uploads/1", "HEAD /v2/src/blobs/" + d.String()}},
		{name: "not in source", status: 202, wantErr: transport.ErrBlobUnknown, wantLog: []string{
			"POST /v2/dst/blobs/uploads/?from=src&mount=" + url.QueryEscape(d.String()), "DELETE /v2/dst/blobs/uploads/1", "HEAD /v2/src/blobs/" + d.String()}},
		{name: "denied", status: 403, wantErr: transport.ErrDenied, wantLog: []string{"POST /v2/dst/blobs/uploads/?from=src&mount=" + url.QueryEscape(d.String())}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log = append(log, r.Method+" "+r.URL.RequestURI())
				switch {
				case r.Method == http.MethodPost:
					w.Header().Set("Location", "/v2/dst/blobs/uploads/1")
					w.WriteHeader(tc.status)
				case r.Method == http.MethodDelete:
					w.WriteHeader(http.StatusNoContent)
				case tc.inSource:
					w.WriteHeader(http.StatusOK)
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv)
			err := c.MountBlob(t.Context(), "dst", "src", d)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("MountBlob = %v, want %v", err, tc.wantErr)
			}
			if strings.Join(log, "\n") != strings.Join(tc.wantLog, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(tc.wantLog, "\n"))
			}
		})
	}
}
