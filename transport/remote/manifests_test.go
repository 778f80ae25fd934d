package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

const testManifestBody = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`

// newMux starts a server of mux and a client of it.
func newMux(t *testing.T, opts ...Option) (*http.ServeMux, *Client) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return mux, newTestClient(t, srv, opts...)
}

func TestGetManifest(t *testing.T) {
	t.Parallel()
	body := []byte(testManifestBody)
	d := digest.FromBytes(body)
	other := digest.FromString("other")
	tests := []struct {
		name    string
		ref     string
		ct      string // Content-Type sent
		header  string // Docker-Content-Digest sent
		body    []byte
		status  int
		errBody string
		want    ocispec.Descriptor
		wantErr error
		wantMsg string
		calls   int32 // requests made, if not 1
	}{
		{name: "by tag with header", ref: "1.0", ct: ocispec.MediaTypeImageManifest + "; charset=utf-8", header: d.String(), body: body,
			want: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(body))}},
		{name: "by tag without header", ref: "1.0", ct: ocispec.MediaTypeImageManifest, body: body,
			want: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(body))}},
		{name: "by digest", ref: d.String(), ct: ocispec.MediaTypeImageManifest, header: d.String(), body: body,
			want: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(body))}},
		{name: "media type from the body", ref: "1.0", ct: "application/json", body: body,
			want: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(body))}},
		{name: "sha512 header", ref: "1.0", ct: ocispec.MediaTypeImageManifest, header: digest.SHA512.FromBytes(body).String(), body: body,
			want: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.SHA512.FromBytes(body), Size: int64(len(body))}},
		{name: "header does not match the body", ref: "1.0", ct: ocispec.MediaTypeImageManifest, header: other.String(), body: body,
			wantErr: transport.ErrDigestInvalid, wantMsg: "registry says its digest is"},
		{name: "body does not match the digest asked", ref: other.String(), ct: ocispec.MediaTypeImageManifest, body: body,
			wantErr: transport.ErrDigestInvalid, wantMsg: "content hashes to"},
		{name: "garbage header", ref: "1.0", ct: ocispec.MediaTypeImageManifest, header: "sha256:zz", body: body, wantErr: transport.ErrDigestInvalid},
		{name: "schema 1", ref: "1.0", ct: dockerSchema1JWS, body: body, wantErr: transport.ErrUnsupported, wantMsg: "schema 1"},
		{name: "unknown tag", ref: "1.0", status: 404, errBody: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no such tag"}]}`,
			wantErr: transport.ErrManifestUnknown, wantMsg: "no such tag"},
		{name: "unknown repository", ref: "1.0", status: 404, errBody: `{"errors":[{"code":"NAME_UNKNOWN"}]}`, wantErr: transport.ErrNameUnknown},
		{name: "404 without body", ref: "1.0", status: 404, wantErr: transport.ErrManifestUnknown},
		{name: "404 with html", ref: "1.0", status: 404, errBody: "<html>404 page not found</html>", wantErr: transport.ErrManifestUnknown, wantMsg: "page not found"},
		{name: "denied", ref: "1.0", status: 403, wantErr: transport.ErrDenied},
		{name: "unauthorized with unknown code", ref: "1.0", status: 401, errBody: `{"errors":[{"code":"WEIRD"}]}`, wantErr: transport.ErrUnauthorized},
		{name: "rate limited", ref: "1.0", status: 429, errBody: `{"errors":[{"code":"TOOMANYREQUESTS"}]}`, wantErr: transport.ErrTooManyRequests, calls: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			var calls atomic.Int32
			mux.HandleFunc("GET /v2/library/app/manifests/{ref}", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if got := r.PathValue("ref"); got != tc.ref {
					t.Errorf("ref = %q, want %q", got, tc.ref)
				}
				if got := r.Header.Get("Accept"); got != manifestAccept {
					t.Errorf("Accept = %q", got)
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
					io.WriteString(w, tc.errBody)
					return
				}
				w.Header().Set("Content-Type", tc.ct)
				if tc.header != "" {
					w.Header().Set("Docker-Content-Digest", tc.header)
				}
				w.Write(tc.body)
			})
			fastSleep(c)
			desc, raw, err := c.GetManifest(t.Context(), "library/app", tc.ref)
			if want := max(tc.calls, 1); calls.Load() != want {
				t.Errorf("%d requests, want %d", calls.Load(), want)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("GetManifest = %v, want %v with %q", err, tc.wantErr, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetManifest = %v", err)
			}
			if desc.MediaType != tc.want.MediaType || desc.Digest != tc.want.Digest || desc.Size != tc.want.Size || !bytes.Equal(raw, tc.body) {
				t.Errorf("GetManifest = %+v, want %+v", desc, tc.want)
			}
		})
	}
}

// countingBody counts what is read of it.
type countingBody struct {
	r io.Reader
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}
func (b countingBody) Close() error { return nil }

// rtFunc is a RoundTripper made of a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestGetManifestTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 1000
	tests := []struct {
		name          string
		contentLength int64
		size          int
		wantRead      int64 // at most
	}{
		{name: "by Content-Length", contentLength: 100000, size: 100000, wantRead: 0},
		{name: "by reading", contentLength: -1, size: 100000, wantRead: limit + 1},
		{name: "exactly the limit is fine", contentLength: -1, size: limit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var read atomic.Int64
			body := bytes.Repeat([]byte(" "), tc.size)
			rt := rtFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{
					StatusCode: 200, Request: r, ContentLength: tc.contentLength,
					Header: http.Header{"Content-Type": {ocispec.MediaTypeImageManifest}},
					Body:   countingBody{bytes.NewReader(body), &read},
				}, nil
			})
			c, _ := New("r.example", WithRoundTripper(rt), WithMaxManifestSize(limit))
			_, raw, err := c.GetManifest(t.Context(), "x", "1")
			if tc.size <= limit {
				if err != nil || len(raw) != tc.size {
					t.Fatalf("GetManifest(%d bytes) = %d bytes, %v", tc.size, len(raw), err)
				}
				return
			}
			if !errors.Is(err, transport.ErrManifestInvalid) || !strings.Contains(err.Error(), "too large") {
				t.Errorf("GetManifest = %v, want ErrManifestInvalid saying too large", err)
			}
			// drainClose drains up to 4 KiB more for keep-alive; count only what
			// the decision read.
			if tc.wantRead == 0 && read.Load() > 4<<10 {
				t.Errorf("read %d bytes, want none beyond the drain", read.Load())
			}
			if tc.wantRead > 0 && read.Load() > tc.wantRead+4<<10 {
				t.Errorf("read %d bytes, want at most %d", read.Load(), tc.wantRead)
			}
		})
	}
}

func TestHeadManifest(t *testing.T) {
	t.Parallel()
	body := []byte(testManifestBody)
	d := digest.FromBytes(body)
	tests := []struct {
		name      string
		ref       string
		header    string // Docker-Content-Digest of the HEAD
		headCode  int
		getCode   int
		getBody   string
		want      digest.Digest
		wantErr   error
		wantHeads int
		wantGets  int
	}{
		{name: "tag with header", ref: "1.0", header: d.String(), want: d, wantHeads: 1},
		{name: "digest without header", ref: d.String(), want: d, wantHeads: 1},
		{name: "tag without header reads the manifest", ref: "1.0", want: d, wantHeads: 1, wantGets: 1},
		{name: "header for another digest", ref: d.String(), header: digest.FromString("x").String(), wantErr: transport.ErrDigestInvalid, wantHeads: 1},
		{name: "404 costs no second request", ref: "1.0", headCode: 404, getCode: 404, getBody: `{"errors":[{"code":"NAME_UNKNOWN"}]}`,
			wantErr: transport.ErrManifestUnknown, wantHeads: 1, wantGets: 0},
		{name: "401", ref: "1.0", headCode: 401, wantErr: transport.ErrUnauthorized, wantHeads: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			var heads, gets atomic.Int32
			mux.HandleFunc("/v2/x/manifests/{ref}", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != manifestAccept {
					t.Errorf("Accept = %q", r.Header.Get("Accept"))
				}
				code := tc.getCode
				if r.Method == http.MethodHead {
					heads.Add(1)
					code = tc.headCode
					if tc.header != "" {
						w.Header().Set("Docker-Content-Digest", tc.header)
					}
				} else {
					gets.Add(1)
				}
				if code != 0 {
					w.WriteHeader(code)
					io.WriteString(w, tc.getBody)
					return
				}
				w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.Write(body)
			})
			desc, err := c.HeadManifest(t.Context(), "x", tc.ref)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("HeadManifest = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (desc.Digest != tc.want || desc.Size != int64(len(body)) || desc.MediaType != ocispec.MediaTypeImageManifest) {
				t.Errorf("HeadManifest = %+v, want digest %s", desc, tc.want)
			}
			if int(heads.Load()) != tc.wantHeads || int(gets.Load()) != tc.wantGets {
				t.Errorf("%d HEAD, %d GET; want %d, %d", heads.Load(), gets.Load(), tc.wantHeads, tc.wantGets)
			}
		})
	}
}

func TestPutManifest(t *testing.T) {
	t.Parallel()
	body := []byte(testManifestBody)
	d := digest.FromBytes(body)
	d512 := digest.SHA512.FromBytes(body)
	tests := []struct {
		name    string
		ref     string
		mt      string
		status  int
		errBody string
		wantCT  string
		want    digest.Digest
		wantErr error
	}{
		{name: "tag", ref: "1.0", mt: ocispec.MediaTypeImageManifest, status: 201, wantCT: ocispec.MediaTypeImageManifest, want: d},
		{name: "digest", ref: d.String(), mt: ocispec.MediaTypeImageManifest, status: 201, wantCT: ocispec.MediaTypeImageManifest, want: d},
		{name: "sha512 digest", ref: d512.String(), mt: ocispec.MediaTypeImageManifest, status: 201, wantCT: ocispec.MediaTypeImageManifest, want: d512},
		{name: "media type from the body", ref: "1.0", status: 201, wantCT: ocispec.MediaTypeImageManifest, want: d},
		{name: "missing blob", ref: "1.0", mt: ocispec.MediaTypeImageManifest, status: 400,
			errBody: `{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":{"digest":"sha256:x"}}]}`,
			wantCT:  ocispec.MediaTypeImageManifest, wantErr: transport.ErrManifestBlobUnknown},
		{name: "invalid", ref: "1.0", mt: ocispec.MediaTypeImageManifest, status: 400, errBody: `{"errors":[{"code":"MANIFEST_INVALID"}]}`,
			wantCT: ocispec.MediaTypeImageManifest, wantErr: transport.ErrManifestInvalid},
		{name: "unknown repository", ref: "1.0", mt: ocispec.MediaTypeImageManifest, status: 404, wantCT: ocispec.MediaTypeImageManifest, wantErr: transport.ErrNameUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			var calls atomic.Int32
			mux.HandleFunc("PUT /v2/x/manifests/{ref}", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				got, _ := io.ReadAll(r.Body)
				if r.PathValue("ref") != tc.ref || r.Header.Get("Content-Type") != tc.wantCT || !bytes.Equal(got, body) || r.ContentLength != int64(len(body)) {
					t.Errorf("PUT %s Content-Type %q, %d bytes", r.PathValue("ref"), r.Header.Get("Content-Type"), r.ContentLength)
				}
				if r.Header.Get("If-Match") != "" {
					t.Errorf("unconditional put sent If-Match %q", r.Header.Get("If-Match"))
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.errBody)
			})
			desc, err := c.PutManifest(t.Context(), "x", tc.ref, tc.mt, body, nil)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("PutManifest = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (desc.Digest != tc.want || desc.Size != int64(len(body)) || desc.MediaType != ocispec.MediaTypeImageManifest) {
				t.Errorf("PutManifest = %+v, want digest %s", desc, tc.want)
			}
			if calls.Load() != 1 {
				t.Errorf("%d PUTs, want 1", calls.Load())
			}
			var re *ResponseError
			if tc.status == 400 && tc.name == "missing blob" && (!errors.As(err, &re) || re.Errors[0].Detail == nil) {
				t.Errorf("error detail lost: %#v", err)
			}
		})
	}
}

// manifestOf returns the body of a manifest with content of its own.
func manifestOf(content string) string {
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"c":%q}}`,
		ocispec.MediaTypeImageManifest, content)
}

// pushManifest stores a manifest with content of its own in tr, under tag.
func pushManifest(t *testing.T, c *Client, repo, tag, content string) ocispec.Descriptor {
	t.Helper()
	body := manifestOf(content)
	ref := tag
	if ref == "" {
		ref = digest.FromString(body).String()
	}
	desc, err := c.PutManifest(t.Context(), repo, ref, ocispec.MediaTypeImageManifest, []byte(body), nil)
	if err != nil {
		t.Fatalf("PutManifest(%s) = %v", ref, err)
	}
	return desc
}

func TestPutManifestIfMatch(t *testing.T) {
	t.Parallel()
	for _, honoured := range []bool{true, false} {
		t.Run(fmt.Sprintf("honoured=%v", honoured), func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, func(tr *testReg) { tr.ifMatch = honoured })
			ctx := t.Context()
			v1 := pushManifest(t, c, "x", "latest", "v1")
			v2 := pushManifest(t, c, "x", "2.0", "v2")
			v3 := pushManifest(t, c, "x", "3.0", "v3")
			_, raw2, _ := c.GetManifest(ctx, "x", "2.0")
			_, raw3, _ := c.GetManifest(ctx, "x", "3.0")
			var ifMatch []string
			tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut {
					ifMatch = append(ifMatch, r.Header.Get("If-Match"))
				}
				return false
			}
			tr.requests()

			// Until a 412 proves If-Match honoured: HEAD, PUT with
			// If-Match, HEAD.
			if _, err := c.PutManifest(ctx, "x", "latest", v2.MediaType, raw2, &transport.PutManifestOptions{IfMatch: v1.Digest}); err != nil {
				t.Fatalf("PutManifest(if v1) = %v", err)
			}
			log := tr.requests()
			wantLog := []string{"HEAD /v2/x/manifests/latest", "PUT /v2/x/manifests/latest", "HEAD /v2/x/manifests/latest"}
			if strings.Join(log, "\n") != strings.Join(wantLog, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(wantLog, "\n"))
			}
			if want := `"` + v1.Digest.String() + `"`; len(ifMatch) != 1 || ifMatch[0] != want {
				t.Errorf("If-Match headers %q, want [%s]", ifMatch, want)
			}
			if got := c.caps.ifMatch.get(); got != triUnknown {
				t.Errorf("If-Match capability = %v after a put whose condition held, want unknown", got)
			}
			if got, _ := c.HeadManifest(ctx, "x", "latest"); got.Digest != v2.Digest {
				t.Fatalf("latest = %s, want %s", got.Digest, v2.Digest)
			}

			// A writer that still believes latest is v1 loses and changes
			// nothing: the first HEAD stops it.
			tr.requests()
			_, err := c.PutManifest(ctx, "x", "latest", v3.MediaType, raw3, &transport.PutManifestOptions{IfMatch: v1.Digest})
			if !errors.Is(err, transport.ErrPreconditionFailed) {
				t.Fatalf("PutManifest(if v1, stale) = %v, want ErrPreconditionFailed", err)
			}
			if log := tr.requests(); strings.Join(log, " ") != "HEAD /v2/x/manifests/latest" {
				t.Errorf("stale conditional put: %q, want one HEAD", log)
			}
			if got, _ := c.HeadManifest(ctx, "x", "latest"); got.Digest != v2.Digest {
				t.Fatalf("latest = %s after a failed put, want %s", got.Digest, v2.Digest)
			}
			// A tag that does not exist does not match.
			if _, err := c.PutManifest(ctx, "x", "nope", v3.MediaType, raw3, &transport.PutManifestOptions{IfMatch: v1.Digest}); !errors.Is(err, transport.ErrPreconditionFailed) {
				t.Errorf("PutManifest(absent tag, if v1) = %v, want ErrPreconditionFailed", err)
			}
		})
	}
}

func TestPutManifestIfMatchLearnsFrom412(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx := t.Context()
	v1 := pushManifest(t, c, "x", "latest", "v1")
	other := pushManifest(t, c, "x", "", "someone else's")
	raw2 := []byte(manifestOf("v2"))
	// Another writer moves latest between our HEAD and our PUT; the
	// registry honours If-Match and refuses the PUT.
	var moved atomic.Bool
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && r.URL.Path == "/v2/x/manifests/latest" && !moved.Swap(true) {
			tr.mu.Lock()
			tr.tags["x"]["latest"] = other.Digest
			tr.mu.Unlock()
		}
		return false
	}
	_, err := c.PutManifest(ctx, "x", "latest", ocispec.MediaTypeImageManifest, raw2, &transport.PutManifestOptions{IfMatch: v1.Digest})
	if !errors.Is(err, transport.ErrPreconditionFailed) {
		t.Fatalf("PutManifest = %v, want ErrPreconditionFailed", err)
	}
	if got, _ := c.HeadManifest(ctx, "x", "latest"); got.Digest != other.Digest {
		t.Errorf("latest = %s, want the concurrent writer's %s", got.Digest, other.Digest)
	}
	if c.caps.ifMatch.get() != triYes {
		t.Errorf("If-Match capability = %v after a 412, want yes", c.caps.ifMatch.get())
	}
	// From now on the PUT alone decides.
	tr.requests()
	if _, err := c.PutManifest(ctx, "x", "latest", ocispec.MediaTypeImageManifest, raw2, &transport.PutManifestOptions{IfMatch: other.Digest}); err != nil {
		t.Fatalf("PutManifest(if other) = %v", err)
	}
	if _, err := c.PutManifest(ctx, "x", "latest", ocispec.MediaTypeImageManifest, raw2, &transport.PutManifestOptions{IfMatch: v1.Digest}); !errors.Is(err, transport.ErrPreconditionFailed) {
		t.Errorf("PutManifest(if v1, stale) = %v, want ErrPreconditionFailed", err)
	}
	if log := tr.requests(); strings.Join(log, " ") != "PUT /v2/x/manifests/latest PUT /v2/x/manifests/latest" {
		t.Errorf("requests once If-Match is known to work: %q, want two PUTs", log)
	}
}

func TestPutManifestIfMatchWritesOnlyTheCallersManifest(t *testing.T) {
	t.Parallel()
	// A registry that ignores If-Match. The client must never write
	// anything but the caller's manifest to the tag (no probe putting stale
	// bytes back), and must fail when the tag moved before it looked.
	tr, c := newTestReg(t, func(tr *testReg) { tr.ifMatch = false })
	ctx := t.Context()
	a := pushManifest(t, c, "x", "latest", "A")
	b := pushManifest(t, c, "x", "", "B")
	rawC := []byte(manifestOf("C"))
	var mu sync.Mutex
	var puts []string
	var moveFirst atomic.Bool
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if moveFirst.Swap(false) {
			tr.mu.Lock()
			tr.tags["x"]["latest"] = b.Digest
			tr.mu.Unlock()
		}
		if r.Method == http.MethodPut {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			mu.Lock()
			puts = append(puts, r.Header.Get("If-Match")+" "+string(body))
			mu.Unlock()
		}
		return false
	}

	// The tag moves to B as the conditional put starts.
	moveFirst.Store(true)
	_, err := c.PutManifest(ctx, "x", "latest", ocispec.MediaTypeImageManifest, rawC, &transport.PutManifestOptions{IfMatch: a.Digest})
	if !errors.Is(err, transport.ErrPreconditionFailed) {
		t.Errorf("PutManifest(if A) after the tag moved to B = %v, want ErrPreconditionFailed", err)
	}
	if got, _ := c.HeadManifest(ctx, "x", "latest"); got.Digest != b.Digest {
		t.Errorf("latest = %s, want B's %s", got.Digest, b.Digest)
	}
	if len(puts) != 0 {
		t.Errorf("a failed conditional put wrote: %q", puts)
	}

	// Unopposed, it writes the caller's manifest once, with If-Match.
	if _, err := c.PutManifest(ctx, "x", "latest", ocispec.MediaTypeImageManifest, rawC, &transport.PutManifestOptions{IfMatch: b.Digest}); err != nil {
		t.Fatalf("PutManifest(if B) = %v", err)
	}
	if want := `"` + b.Digest.String() + `" ` + string(rawC); len(puts) != 1 || puts[0] != want {
		t.Errorf("PUTs %q, want one: %s", puts, want)
	}
}

func TestPutManifestIfMatchConcurrentWriterWins(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.ifMatch = false })
	ctx := t.Context()
	v1 := pushManifest(t, c, "x", "latest", "v1")
	pushManifest(t, c, "x", "2.0", "v2")
	other := pushManifest(t, c, "x", "", "someone else's")
	_, raw2, _ := c.GetManifest(ctx, "x", "2.0")
	// Right after our PUT of latest, another writer moves it.
	var puts atomic.Int32
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && r.URL.Path == "/v2/x/manifests/latest" && puts.Load() == 1 {
			tr.mu.Lock()
			tr.tags["x"]["latest"] = other.Digest
			tr.mu.Unlock()
		}
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		return false
	}
	_, err := c.PutManifest(ctx, "x", "latest", ocispec.MediaTypeImageManifest, raw2, &transport.PutManifestOptions{IfMatch: v1.Digest})
	if !errors.Is(err, transport.ErrPreconditionFailed) || !strings.Contains(err.Error(), "concurrent writer won") {
		t.Errorf("PutManifest = %v, want ErrPreconditionFailed saying a concurrent writer won", err)
	}
}

func TestPutManifestIfMatchAnswers(t *testing.T) {
	t.Parallel()
	v1 := digest.FromString(testManifestBody)
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr error
		wantCap tri
	}{
		{name: "412 with an unrelated code", status: http.StatusPreconditionFailed, body: `{"errors":[{"code":"MANIFEST_INVALID"}]}`, wantErr: transport.ErrPreconditionFailed, wantCap: triYes},
		{name: "412 without a body", status: http.StatusPreconditionFailed, wantErr: transport.ErrPreconditionFailed, wantCap: triYes},
		{name: "refused for another reason", status: http.StatusForbidden, wantErr: transport.ErrDenied, wantCap: triUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			mux.HandleFunc("HEAD /v2/x/manifests/latest", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
				w.Header().Set("Docker-Content-Digest", v1.String())
				w.Header().Set("Content-Length", strconv.Itoa(len(testManifestBody)))
			})
			mux.HandleFunc("PUT /v2/x/manifests/latest", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.PutManifest(t.Context(), "x", "latest", ocispec.MediaTypeImageManifest, []byte(manifestOf("v2")), &transport.PutManifestOptions{IfMatch: v1})
			if !errors.Is(err, tc.wantErr) || c.caps.ifMatch.get() != tc.wantCap {
				t.Errorf("PutManifest = %v, capability %v; want %v, %v", err, c.caps.ifMatch.get(), tc.wantErr, tc.wantCap)
			}
		})
	}
}

func TestDeleteManifest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ref     string
		status  int
		wantErr error
		wantCap tri
	}{
		{name: "digest", ref: digest.FromString("m").String(), status: 202},
		{name: "tag", ref: "1.0", status: 202, wantCap: triYes},
		{name: "tag unsupported", ref: "1.0", status: 405, wantErr: transport.ErrUnsupported, wantCap: triNo},
		{name: "unknown", ref: digest.FromString("m").String(), status: 404, wantErr: transport.ErrManifestUnknown},
		{name: "deletes disabled", ref: digest.FromString("m").String(), status: 405, wantErr: transport.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			c.caps.referrers.set(triYes) // no subject lookup
			var calls atomic.Int32
			mux.HandleFunc("DELETE /v2/x/manifests/{ref}", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.PathValue("ref") != tc.ref {
					t.Errorf("DELETE %s, want %s", r.PathValue("ref"), tc.ref)
				}
				w.WriteHeader(tc.status)
			})
			err := c.DeleteManifest(t.Context(), "x", tc.ref)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("DeleteManifest = %v, want %v", err, tc.wantErr)
			}
			if calls.Load() != 1 || c.caps.tagDelete.get() != tc.wantCap {
				t.Errorf("%d DELETEs, tag delete capability %v; want 1, %v", calls.Load(), c.caps.tagDelete.get(), tc.wantCap)
			}
		})
	}
}
