package remote

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

func TestResumeUploadRefusesForeignSessions(t *testing.T) {
	t.Parallel()
	evil := newForeignHost(t)
	var regHits atomic.Int32
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		regHits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(reg.Close)
	c := newTestClient(t, reg, WithRoundTripper(signingRT{}))
	host := c.base.Host
	d := digest.FromString("m").String()
	tests := []struct {
		name, id, wantHost string
	}{
		{name: "scheme-relative", id: "//" + evil.host() + "/v2/x/blobs/uploads/1", wantHost: evil.host()},
		{name: "another host", id: evil.URL + "/v2/x/blobs/uploads/1?sig=secret", wantHost: evil.host()},
		{name: "https instead of http", id: "https://" + host + "/v2/x/blobs/uploads/1", wantHost: host},
		{name: "user information", id: "http://user:pw@" + host + "/v2/x/blobs/uploads/1", wantHost: host},
		{name: "another repository", id: "/v2/y/blobs/uploads/1", wantHost: host},
		{name: "a manifest", id: "http://" + host + "/v2/x/manifests/" + d, wantHost: host},
		{name: "a path to a manifest", id: "/v2/x/manifests/" + d, wantHost: host},
		{name: "an id that climbs", id: "../../manifests/latest", wantHost: host},
		{name: "an encoded id that climbs", id: "/v2/x/blobs/uploads/%2e%2e/%2e%2e/manifests/latest", wantHost: host},
		{name: "the uploads root", id: "/v2/x/blobs/uploads/", wantHost: host},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.ResumeUpload(t.Context(), "x", tc.id)
			if !errors.Is(err, transport.ErrBlobUploadInvalid) || !strings.Contains(err.Error(), tc.wantHost) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pw") {
				t.Errorf("ResumeUpload(%q) = %v, want ErrBlobUploadInvalid naming %s, without query or user information", tc.id, err, tc.wantHost)
			}
		})
	}
	t.Cleanup(func() {
		if evil.hits.Load() != 0 || regHits.Load() != 0 {
			t.Errorf("refused session ids sent %d requests to a foreign host, %d to the registry", evil.hits.Load(), regHits.Load())
		}
	})
}

func TestResumeUploadRefusesForeignStatusLocation(t *testing.T) {
	t.Parallel()
	evil := newForeignHost(t)
	mux, c := newMux(t)
	mux.HandleFunc("GET /v2/x/blobs/uploads/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", evil.URL+"/v2/x/blobs/uploads/1")
		w.Header().Set("Range", "0-9")
		w.WriteHeader(http.StatusNoContent)
	})
	if _, err := c.ResumeUpload(t.Context(), "x", "1"); !errors.Is(err, transport.ErrBlobUploadInvalid) {
		t.Errorf("ResumeUpload = %v, want ErrBlobUploadInvalid", err)
	}
}

func TestWriterResyncsOnRangeMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   string // Range of the session's status
		rng      string // Range of the 416, "" for none
		written  string // written before the failing chunk
		wantSize int64  // Size after the failure
		wantMsg  string
	}{
		{name: "registry holds fewer", written: "abcde", rng: "0-2", wantSize: 3, wantMsg: "holds 3 bytes, fewer than the 5"},
		{name: "registry holds more", written: "ab", rng: "0-9", wantSize: 10, wantMsg: "holds 10 bytes, more than the 2"},
		{name: "registry holds none, as 0-0 says", written: "a", rng: "0-0", wantSize: 0, wantMsg: "holds 0 bytes, fewer than the 1"},
		{name: "no Range, as the distribution registry answers", written: "abc", wantSize: 3, wantMsg: "does not hold the 3 bytes"},
		{name: "resumed session holds more than one byte", status: "0-0", rng: "0-4", wantSize: 5, wantMsg: "holds 5 bytes, more than the 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			var patches atomic.Int32
			mux.HandleFunc("POST /v2/x/blobs/uploads/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/v2/x/blobs/uploads/1")
				w.WriteHeader(http.StatusAccepted)
			})
			mux.HandleFunc("GET /v2/x/blobs/uploads/1", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Range", tc.status)
				w.WriteHeader(http.StatusNoContent)
			})
			mux.HandleFunc("PATCH /v2/x/blobs/uploads/1", func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if patches.Add(1) == 1 && tc.written != "" {
					w.WriteHeader(http.StatusAccepted)
					return
				}
				if tc.rng != "" {
					w.Header().Set("Range", tc.rng)
				}
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			})
			var w transport.BlobWriter
			var err error
			if tc.status != "" {
				w, err = c.ResumeUpload(t.Context(), "x", "1")
			} else {
				w, err = c.StartUpload(t.Context(), "x")
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.written != "" {
				if _, err := w.Write([]byte(tc.written)); err != nil {
					t.Fatal(err)
				}
			}
			_, err = w.Write([]byte("next"))
			if !errors.Is(err, transport.ErrBlobUploadInvalid) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Write = %v, want ErrBlobUploadInvalid saying %q", err, tc.wantMsg)
			}
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusRequestedRangeNotSatisfiable {
				t.Errorf("Write = %v, want the registry's 416 in the chain", err)
			}
			if w.Size() != tc.wantSize {
				t.Errorf("Size() = %d after the 416, want %d", w.Size(), tc.wantSize)
			}
			if _, err2 := w.Write([]byte("more")); err2 != err {
				t.Errorf("Write after the failure = %v, want the same error", err2)
			}
		})
	}
}

func TestPutBlobChunkRangeMismatch(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.selfMountErr = http.StatusBadRequest }, WithChunkSize(4), WithSinglePOSTMax(-1))
	var patches atomic.Int32
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch && patches.Add(1) == 2 {
			// The registry lost the first chunk.
			w.Header().Set("Range", "0-0")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return true
		}
		return false
	}
	blob := []byte("twelve bytes")
	err := c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob))
	if !errors.Is(err, transport.ErrBlobUploadInvalid) || !strings.Contains(err.Error(), "fewer than the 4") {
		t.Errorf("PutBlob = %v, want ErrBlobUploadInvalid saying the session holds fewer bytes", err)
	}
	if len(tr.uploads) != 0 || len(tr.blobs) != 0 {
		t.Errorf("after the failure: %d sessions, %d blobs; want none", len(tr.uploads), len(tr.blobs))
	}
}

func TestResumeUploadOfOneByte(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chunkMin int64
		then     string // written after the resume
	}{
		{name: "next chunk sent", then: "bc"},
		{name: "rest held back until Commit", chunkMin: 10, then: "bc"},
		{name: "nothing more", then: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, nil)
			ctx := t.Context()
			w, err := c.StartUpload(ctx, "x")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("a")); err != nil {
				t.Fatal(err)
			}
			tr.mu.Lock()
			tr.chunkMin = tc.chunkMin
			tr.mu.Unlock()
			c.caps.noteChunkMin(tc.chunkMin)
			w2, err := c.ResumeUpload(ctx, "x", w.ID())
			if err != nil {
				t.Fatalf("ResumeUpload = %v", err)
			}
			// "0-0": the writer cannot know yet.
			if w2.Size() != 0 {
				t.Errorf("Size() = %d after resuming at 0-0, want 0", w2.Size())
			}
			if _, err := w2.Write([]byte(tc.then)); err != nil {
				t.Fatalf("Write = %v", err)
			}
			want := "a" + tc.then
			if err := w2.Commit(ctx, blobDesc([]byte(want))); err != nil {
				t.Fatalf("Commit = %v", err)
			}
			if got := tr.blobs[digest.FromString(want)]; string(got) != want {
				t.Errorf("stored %q, want %q", got, want)
			}
		})
	}
	t.Run("wrong size is still refused", func(t *testing.T) {
		t.Parallel()
		_, c := newTestReg(t, nil)
		w, _ := c.StartUpload(t.Context(), "x")
		w.Write([]byte("a"))
		w2, err := c.ResumeUpload(t.Context(), "x", w.ID())
		if err != nil {
			t.Fatal(err)
		}
		if err := w2.Commit(t.Context(), ocispec.Descriptor{Digest: digest.FromString("ab"), Size: 2}); !errors.Is(err, transport.ErrSizeInvalid) {
			t.Errorf("Commit(2 bytes) of a session of 0 or 1 = %v, want ErrSizeInvalid", err)
		}
	})
}
