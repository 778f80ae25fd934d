package remote

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// failReader fails the test if it is read.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("the blob was read")
	return 0, io.EOF
}

// onlyReader hides every method but Read (no WriterTo, no Seeker).
type onlyReader struct{ r io.Reader }

func (r onlyReader) Read(p []byte) (int, error) { return r.r.Read(p) }

func blobDesc(b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

func q(d digest.Digest) string { return url.QueryEscape(d.String()) }

func TestPutBlobSelfMount(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx := t.Context()
	have := []byte("already there")
	tr.blobs[digest.FromBytes(have)] = have

	// The registry has it: one POST, the reader untouched.
	if err := c.PutBlob(ctx, "a/b", blobDesc(have), failReader{t}); err != nil {
		t.Fatalf("PutBlob(present) = %v", err)
	}
	want := []string{"POST /v2/a/b/blobs/uploads/?from=a%2Fb&mount=" + q(digest.FromBytes(have))}
	if log := tr.requests(); strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests = %q, want %q", log, want)
	}
	if c.caps.selfMount.get() != triYes {
		t.Errorf("self-mount capability = %v, want yes", c.caps.selfMount.get())
	}

	// It does not: the mount POST opened a session, the blob goes in one PUT.
	blob := []byte("new bytes")
	d := digest.FromBytes(blob)
	if err := c.PutBlob(ctx, "a/b", blobDesc(blob), bytes.NewReader(blob)); err != nil {
		t.Fatalf("PutBlob(absent) = %v", err)
	}
	want = []string{
		"POST /v2/a/b/blobs/uploads/?from=a%2Fb&mount=" + q(d),
		"PUT /v2/a/b/blobs/uploads/1?_state=s1&digest=" + q(d),
	}
	if log := tr.requests(); strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if !bytes.Equal(tr.blobs[d], blob) {
		t.Errorf("stored %q, want %q", tr.blobs[d], blob)
	}
}

// TestPutBlobSinglePOSTProbeSmall: until the client knows that the
// registry stores the body of a single POST, a blob above 64 KiB opens a
// session instead, so a registry that ignores the body is not sent up to
// 1 MiB twice.
func TestPutBlobSinglePOSTProbeSmall(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.selfMountErr = http.StatusBadRequest; tr.singlePOST = false })
	ctx := t.Context()
	mid := bytes.Repeat([]byte("m"), 512<<10) // below the 1 MiB limit, above the probe's
	if err := c.PutBlob(ctx, "x", blobDesc(mid), bytes.NewReader(mid)); err != nil {
		t.Fatalf("PutBlob = %v", err)
	}
	d := digest.FromBytes(mid)
	want := []string{"POST /v2/x/blobs/uploads/?from=x&mount=" + q(d), "HEAD /v2/x/blobs/" + d.String(),
		"POST /v2/x/blobs/uploads/", "PUT /v2/x/blobs/uploads/1?_state=s1&digest=" + q(d)}
	if log := tr.requests(); strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if got := c.caps.singlePOST.get(); got != triUnknown {
		t.Errorf("single POST capability = %v, want unknown (not probed)", got)
	}
	if !bytes.Equal(tr.blobs[d], mid) {
		t.Error("blob not stored")
	}
}

func TestPutBlobSinglePOST(t *testing.T) {
	t.Parallel()
	for _, accepted := range []bool{true, false} {
		name := map[bool]string{true: "accepted", false: "ignored"}[accepted]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, func(tr *testReg) { tr.selfMountErr = http.StatusBadRequest; tr.singlePOST = accepted })
			ctx := t.Context()
			b1, b2, b3 := []byte("first"), []byte("second"), []byte("third blob")
			big := bytes.Repeat([]byte("z"), 2<<20) // above the single-POST limit

			if err := c.PutBlob(ctx, "x", blobDesc(b1), bytes.NewReader(b1)); err != nil {
				t.Fatalf("PutBlob = %v", err)
			}
			d1 := digest.FromBytes(b1)
			want := []string{"POST /v2/x/blobs/uploads/?from=x&mount=" + q(d1), "HEAD /v2/x/blobs/" + d1.String(), "POST /v2/x/blobs/uploads/?digest=" + q(d1)}
			if !accepted {
				want = append(want, "PUT /v2/x/blobs/uploads/1?_state=s1&digest="+q(d1))
			}
			if log := tr.requests(); strings.Join(log, "\n") != strings.Join(want, "\n") {
				t.Errorf("first blob:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
			}
			wantCap := map[bool]tri{true: triYes, false: triNo}[accepted]
			if c.caps.selfMount.get() != triNo || c.caps.singlePOST.get() != wantCap {
				t.Errorf("capabilities: self-mount %v, single POST %v; want no, %v", c.caps.selfMount.get(), c.caps.singlePOST.get(), wantCap)
			}

			// Learned: no mount attempt but a HEAD, and single POST only if
			// it works.
			if err := c.PutBlob(ctx, "x", blobDesc(b2), bytes.NewReader(b2)); err != nil {
				t.Fatalf("PutBlob = %v", err)
			}
			d2 := digest.FromBytes(b2)
			want = []string{"HEAD /v2/x/blobs/" + d2.String(), "POST /v2/x/blobs/uploads/?digest=" + q(d2)}
			if !accepted {
				want = []string{"HEAD /v2/x/blobs/" + d2.String(), "POST /v2/x/blobs/uploads/", "PUT /v2/x/blobs/uploads/2?_state=s2&digest=" + q(d2)}
			}
			if log := tr.requests(); strings.Join(log, "\n") != strings.Join(want, "\n") {
				t.Errorf("second blob:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
			}
			// A blob above the limit opens a session.
			if err := c.PutBlob(ctx, "x", blobDesc(big), bytes.NewReader(big)); err != nil {
				t.Fatalf("PutBlob(big) = %v", err)
			}
			if log := tr.requests(); len(log) != 3 || log[1] != "POST /v2/x/blobs/uploads/" {
				t.Errorf("big blob: %q", log)
			}
			for _, b := range [][]byte{b1, b2, big} {
				if !bytes.Equal(tr.blobs[digest.FromBytes(b)], b) {
					t.Errorf("blob %s not stored", digest.FromBytes(b))
				}
			}
			// A wrong digest is refused by the registry.
			bad := blobDesc(b3)
			bad.Digest = digest.FromString("other")
			if err := c.PutBlob(ctx, "x", bad, bytes.NewReader(b3)); !errors.Is(err, transport.ErrDigestInvalid) {
				t.Errorf("PutBlob(wrong digest) = %v, want ErrDigestInvalid", err)
			}
		})
	}
}

func TestPutBlobMountRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		code     transport.Code
		wantCap  tri
		wantErr  error
		wantPOST int
	}{
		{name: "unknown repository is not remembered", status: 404, code: transport.CodeNameUnknown, wantCap: triUnknown, wantPOST: 2},
		{name: "bad request is remembered", status: 400, code: transport.CodeUnsupported, wantCap: triNo, wantPOST: 2},
		{name: "denied is an error", status: 403, code: transport.CodeDenied, wantCap: triUnknown, wantErr: transport.ErrDenied, wantPOST: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, nil, WithSinglePOSTMax(-1))
			tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Query().Get("mount") != "" {
					testError(w, tc.status, tc.code)
					return true
				}
				return false
			}
			blob := []byte("blob")
			err := c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("PutBlob = %v, want %v", err, tc.wantErr)
			}
			log := tr.requests()
			if countPrefixed(log, "POST") != tc.wantPOST || c.caps.selfMount.get() != tc.wantCap {
				t.Errorf("requests %q, self-mount capability %v; want %d POSTs, %v", log, c.caps.selfMount.get(), tc.wantPOST, tc.wantCap)
			}
		})
	}
}

func TestPutBlobChunked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		size      int
		unknown   bool // desc.Size 0
		chunkMin  int64
		wantPatch []string // Content-Range of each PATCH
		wantPut   int64    // Content-Length of the final PUT
	}{
		{name: "known size, chunks of 10", size: 25, wantPatch: []string{"0-9", "10-19", "20-24"}},
		{name: "known size, chunk minimum 12", size: 25, chunkMin: 12, wantPatch: []string{"0-11", "12-23", "24-24"}},
		{name: "known size, one chunk", size: 10, wantPut: 10},
		{name: "unknown size, chunks of 10", size: 25, unknown: true, wantPatch: []string{"0-9", "10-19", "20-24"}},
		{name: "unknown size, exact chunks", size: 20, unknown: true, wantPatch: []string{"0-9", "10-19"}},
		{name: "unknown size, small", size: 7, unknown: true, wantPut: 7},
		{name: "empty", size: 0, unknown: true, wantPut: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var patches []string
			var putLen int64 = -1
			tr, c := newTestReg(t, func(tr *testReg) { tr.chunkMin = tc.chunkMin }, WithChunkSize(10), WithSinglePOSTMax(-1))
			tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				switch r.Method {
				case http.MethodPatch:
					patches = append(patches, r.Header.Get("Content-Range"))
					if r.Header.Get("Content-Type") != "application/octet-stream" {
						t.Errorf("PATCH Content-Type = %q", r.Header.Get("Content-Type"))
					}
				case http.MethodPut:
					putLen = r.ContentLength
				}
				return false
			}
			blob := bytes.Repeat([]byte("0123456789abcdef"), 4)[:tc.size]
			desc := blobDesc(blob)
			if tc.unknown {
				desc.Size = 0
			}
			if err := c.PutBlob(t.Context(), "x", desc, onlyReader{bytes.NewReader(blob)}); err != nil {
				t.Fatalf("PutBlob = %v", err)
			}
			if !bytes.Equal(tr.blobs[desc.Digest], blob) {
				t.Errorf("stored %q, want %q", tr.blobs[desc.Digest], blob)
			}
			if strings.Join(patches, " ") != strings.Join(tc.wantPatch, " ") || putLen != tc.wantPut {
				t.Errorf("PATCH ranges %q, PUT of %d bytes; want %q, %d", patches, putLen, tc.wantPatch, tc.wantPut)
			}
		})
	}
}

// TestPutBlobKnownSizeGoesWhole checks the default: a blob of known size
// larger than the chunk size goes in one streamed PUT, not in PATCH chunks,
// unless WithChunkSize asks for chunks. (The default chunk size is set
// small here, as WithChunkSize cannot, to keep the blob small.)
func TestPutBlobKnownSizeGoesWhole(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte{'z'}, 25)
	desc := blobDesc(blob)
	tests := []struct {
		name        string
		opts        []Option
		wantPatches int
	}{
		{name: "default", wantPatches: 0},
		{name: "WithChunkSize", opts: []Option{WithChunkSize(10)}, wantPatches: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			patches, puts := 0, 0
			tr, c := newTestReg(t, nil, append(tc.opts, WithSinglePOSTMax(-1))...)
			c.chunkSize = 10 // as the default would be, WithChunkSize or not
			tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				switch r.Method {
				case http.MethodPatch:
					patches++
				case http.MethodPut:
					puts++
				}
				return false
			}
			if err := c.PutBlob(t.Context(), "x", desc, onlyReader{bytes.NewReader(blob)}); err != nil {
				t.Fatalf("PutBlob = %v", err)
			}
			if patches != tc.wantPatches || puts != 1 {
				t.Errorf("%d PATCHes and %d PUTs, want %d and 1", patches, puts, tc.wantPatches)
			}
			if !bytes.Equal(tr.blobs[desc.Digest], blob) {
				t.Error("the stored blob differs")
			}
		})
	}
}

// TestPutBlobTooLargeSaysWhatToDo checks that a whole-blob PUT refused with
// 413 (a proxy's cap on request bodies) points at WithChunkSize.
func TestPutBlobTooLargeSaysWhatToDo(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil, WithSinglePOSTMax(-1))
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return true
	}
	blob := []byte("a blob too big for the proxy")
	err := c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob))
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("PutBlob = %v, want a 413 ResponseError", err)
	}
	if !strings.Contains(err.Error(), "WithChunkSize") {
		t.Errorf("error %q does not point at WithChunkSize", err)
	}
}

func TestPutBlobLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		location func(reg string) string // reg is the registry's host:port
		wantPut  string
	}{
		{name: "relative with query", location: func(string) string { return "/v2/x/blobs/uploads/u1?_state=a%2Bb" }, wantPut: "/v2/x/blobs/uploads/u1?_state=a%2Bb&digest="},
		{name: "absolute", location: func(reg string) string { return "http://" + reg + "/v2/x/blobs/uploads/u2" }, wantPut: "/v2/x/blobs/uploads/u2?digest="},
		{name: "relative to the request", location: func(string) string { return "u3" }, wantPut: "/v2/x/blobs/uploads/u3?digest="},
		{name: "id of several segments", location: func(string) string { return "/v2/x/blobs/uploads/a/b" }, wantPut: "/v2/x/blobs/uploads/a/b?digest="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t, WithSinglePOSTMax(-1))
			var put string
			mux.HandleFunc("POST /v2/x/blobs/uploads/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", tc.location(c.base.Host))
				w.WriteHeader(http.StatusAccepted)
			})
			mux.HandleFunc("PUT /", func(w http.ResponseWriter, r *http.Request) {
				put = r.URL.RequestURI()
				w.WriteHeader(http.StatusCreated)
			})
			blob := []byte("b")
			if err := c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob)); err != nil {
				t.Fatalf("PutBlob = %v", err)
			}
			if want := tc.wantPut + q(digest.FromBytes(blob)); put != want {
				t.Errorf("PUT %s, want %s", put, want)
			}
		})
	}
	// A 202 without a Location, or with one that is not HTTP, is an error.
	for _, loc := range []string{"", "ftp://x/y", "%zz"} {
		mux, c := newMux(t, WithSinglePOSTMax(-1))
		mux.HandleFunc("POST /v2/x/blobs/uploads/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusAccepted)
		})
		if err := c.PutBlob(t.Context(), "x", blobDesc([]byte("b")), bytes.NewReader([]byte("b"))); err == nil || !strings.Contains(err.Error(), "Location") {
			t.Errorf("PutBlob with Location %q = %v, want a Location error", loc, err)
		}
	}
}

// errReader returns some bytes, then an error.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestPutBlobWrongSize(t *testing.T) {
	t.Parallel()
	content := []byte("twelve bytes")
	boom := errors.New("disk on fire")
	tests := []struct {
		name       string
		size       int64
		r          io.Reader
		singlePOST bool
		chunk      int64
		wantErr    error
	}{
		{name: "longer, one PUT", size: 5, r: bytes.NewReader(content), wantErr: transport.ErrSizeInvalid},
		{name: "shorter, one PUT", size: 20, r: bytes.NewReader(content), wantErr: transport.ErrSizeInvalid},
		{name: "longer, chunks", size: 7, chunk: 3, r: bytes.NewReader(content), wantErr: transport.ErrSizeInvalid},
		{name: "shorter, chunks", size: 20, chunk: 3, r: bytes.NewReader(content), wantErr: transport.ErrSizeInvalid},
		{name: "source fails", size: 12, r: &errReader{data: content[:4], err: boom}, wantErr: boom},
		{name: "source fails at the end", size: 12, r: &errReader{data: content, err: boom}, wantErr: boom},
		{name: "longer, single POST", size: 5, singlePOST: true, r: bytes.NewReader(content), wantErr: transport.ErrSizeInvalid},
		{name: "shorter, single POST", size: 20, singlePOST: true, r: bytes.NewReader(content), wantErr: transport.ErrSizeInvalid},
		{name: "source fails, single POST", size: 12, singlePOST: true, r: &errReader{data: content[:4], err: boom}, wantErr: boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithChunkSize(max(tc.chunk, 100))}
			if !tc.singlePOST {
				opts = append(opts, WithSinglePOSTMax(-1))
			}
			tr, c := newTestReg(t, func(tr *testReg) { tr.selfMountErr = http.StatusBadRequest }, opts...)
			desc := ocispec.Descriptor{Digest: digest.FromBytes(content), Size: tc.size}
			err := c.PutBlob(t.Context(), "x", desc, tc.r)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("PutBlob = %v, want %v", err, tc.wantErr)
			}
			log := tr.requests()
			if len(tr.blobs) != 0 || len(tr.uploads) != 0 {
				t.Errorf("after a failed upload: %d blobs, %d sessions left (requests %q)", len(tr.blobs), len(tr.uploads), log)
			}
			if tc.singlePOST && countPrefixed(log, "POST /v2/x/blobs/uploads/?digest") != 0 {
				t.Errorf("single POST sent a blob of the wrong size: %q", log)
			}
		})
	}
}

func TestUploader(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil, WithChunkSize(8))
	ctx := t.Context()
	content := []byte("chunk of an upload, chunk of an upload")
	desc := blobDesc(content)

	w, err := c.StartUpload(ctx, "x")
	if err != nil {
		t.Fatalf("StartUpload = %v", err)
	}
	if !strings.HasPrefix(w.ID(), "http://"+c.base.Host+"/v2/x/blobs/uploads/") {
		t.Errorf("ID() = %q, want an absolute URL of the registry", w.ID())
	}
	half := len(content) / 2
	if n, err := w.Write(content[:half]); err != nil || n != half {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if countPrefixed(tr.requests(), "PATCH") != 3 {
		t.Errorf("19 bytes in chunks of 8: want 3 PATCHes")
	}
	w2, err := c.ResumeUpload(ctx, "x", w.ID())
	if err != nil {
		t.Fatalf("ResumeUpload(%s) = %v", w.ID(), err)
	}
	if w2.Size() != int64(half) {
		t.Fatalf("resumed session holds %d bytes, want %d", w2.Size(), half)
	}
	if n, err := io.Copy(w2, onlyReader{bytes.NewReader(content[half:])}); err != nil || n != int64(len(content)-half) {
		t.Fatalf("io.Copy = %d, %v", n, err)
	}
	if err := w2.Commit(ctx, desc); err != nil {
		t.Fatalf("Commit = %v", err)
	}
	if !bytes.Equal(tr.blobs[desc.Digest], content) {
		t.Errorf("stored %q", tr.blobs[desc.Digest])
	}
	if _, err := w2.Write([]byte("x")); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("Write after Commit = %v, want ErrBlobUploadUnknown", err)
	}
	if err := w2.Commit(ctx, desc); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("Commit after Commit = %v, want ErrBlobUploadUnknown", err)
	}

	t.Run("wrong digest", func(t *testing.T) {
		w, _ := c.StartUpload(ctx, "x")
		w.Write([]byte("other"))
		err := w.Commit(ctx, ocispec.Descriptor{Digest: digest.FromString("claimed"), Size: 5})
		if !errors.Is(err, transport.ErrDigestInvalid) {
			t.Errorf("Commit = %v, want ErrDigestInvalid", err)
		}
	})
	t.Run("wrong size", func(t *testing.T) {
		w, _ := c.StartUpload(ctx, "x")
		w.Write([]byte("other"))
		tr.requests()
		err := w.Commit(ctx, ocispec.Descriptor{Digest: digest.FromString("other"), Size: 6})
		if !errors.Is(err, transport.ErrSizeInvalid) || countPrefixed(tr.requests(), "DELETE") != 1 {
			t.Errorf("Commit = %v, want ErrSizeInvalid and the session deleted", err)
		}
	})
	t.Run("bad digest", func(t *testing.T) {
		w, _ := c.StartUpload(ctx, "x")
		if err := w.Commit(ctx, ocispec.Descriptor{Digest: "nope"}); !errors.Is(err, transport.ErrDigestInvalid) {
			t.Errorf("Commit = %v, want ErrDigestInvalid", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		w, _ := c.StartUpload(ctx, "x")
		if err := w.Cancel(ctx); err != nil {
			t.Fatalf("Cancel = %v", err)
		}
		if err := w.Cancel(ctx); err != nil {
			t.Errorf("Cancel again = %v", err)
		}
		if _, err := c.ResumeUpload(ctx, "x", w.ID()); !errors.Is(err, transport.ErrBlobUploadUnknown) {
			t.Errorf("ResumeUpload(canceled) = %v, want ErrBlobUploadUnknown", err)
		}
	})
	t.Run("ids", func(t *testing.T) {
		w, _ := c.StartUpload(ctx, "x")
		u, _ := url.Parse(w.ID())
		id := strings.TrimPrefix(u.Path, "/v2/x/blobs/uploads/")
		for _, ref := range []string{id, u.Path} {
			if _, err := c.ResumeUpload(ctx, "x", ref); err != nil {
				t.Errorf("ResumeUpload(%q) = %v", ref, err)
			}
		}
		if _, err := c.ResumeUpload(ctx, "x", "no-such-session"); !errors.Is(err, transport.ErrBlobUploadUnknown) {
			t.Errorf("ResumeUpload(unknown) = %v, want ErrBlobUploadUnknown", err)
		}
	})
	t.Run("patch fails", func(t *testing.T) {
		w, _ := c.StartUpload(ctx, "x")
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPatch {
				testError(w, http.StatusRequestedRangeNotSatisfiable, transport.CodeBlobUploadInvalid)
				return true
			}
			return false
		}
		defer func() { tr.hook = nil }()
		if _, err := w.Write([]byte("x")); !errors.Is(err, transport.ErrBlobUploadInvalid) {
			t.Errorf("Write = %v, want ErrBlobUploadInvalid", err)
		}
		if _, err := w.Write([]byte("y")); !errors.Is(err, transport.ErrBlobUploadInvalid) {
			t.Errorf("Write after a failure = %v, want the same error", err)
		}
	})
}

func TestUploaderChunkMinimum(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lens []int64
	tr, c := newTestReg(t, func(tr *testReg) { tr.chunkMin = 10 }, WithChunkSize(4))
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch {
			mu.Lock()
			lens = append(lens, r.ContentLength)
			mu.Unlock()
		}
		return false
	}
	ctx := t.Context()
	w, err := c.StartUpload(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("abcdefghijklmnopqrstuvwxy") // 25
	for _, part := range [][]byte{content[:6], content[6:12], content[12:25]} {
		if _, err := w.Write(part); err != nil {
			t.Fatalf("Write = %v", err)
		}
	}
	// Chunks are raised to the minimum, 10: 6 held; 12 gives a chunk of
	// 10, 2 held; 15 gives one, 5 held.
	// Size counts what the registry holds, not the 5 bytes held back.
	if w.Size() != 20 || len(lens) != 2 || lens[0] != 10 || lens[1] != 10 {
		t.Errorf("Size() = %d, PATCH lengths %v; want 20, [10 10]", w.Size(), lens)
	}
	w.Write([]byte("z"))
	if err := w.Commit(ctx, blobDesc(append(content, 'z'))); err != nil {
		t.Fatalf("Commit = %v", err)
	}
	if !bytes.Equal(tr.blobs[digest.FromBytes(append(content, 'z'))], append(content, 'z')) {
		t.Error("blob not stored")
	}
}

func TestParseUploadRange(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"0-0": 0, "": 0, "0-9": 10, "bytes=0-99": 100, "0--1": 0, "5-9": 0, "0-x": 0} {
		if got := parseUploadRange(in); got != want {
			t.Errorf("parseUploadRange(%q) = %d, want %d", in, got, want)
		}
	}
}
