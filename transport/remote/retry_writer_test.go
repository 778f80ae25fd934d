package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestWriterResumes checks that a BlobWriter, after a transient failure
// of a chunk or of its Commit, asks the session what it holds and sends
// only what it lacks.
func TestWriterResumes(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("0123456789"), 250) // 2500 bytes: chunks of 1000, 1000, 500
	d := digest.FromBytes(data)
	const (
		serveLost = iota // store the request, lose the answer
		fail503          // answer 503 without storing
		storeHalf        // store half the chunk, then reset
		forget           // empty the session, then answer 503
		drop             // delete the session, then answer 503
	)
	tests := []struct {
		name        string
		method      string // of the request that fails
		nth         int32  // which of them fails
		how         int
		wantPatches int
		wantPuts    int
		wantErr     string
	}{
		{name: "chunk stored, answer lost", method: "PATCH", nth: 2, how: serveLost, wantPatches: 3, wantPuts: 1},
		{name: "chunk refused", method: "PATCH", nth: 1, how: fail503, wantPatches: 4, wantPuts: 1},
		{name: "half the chunk stored", method: "PATCH", nth: 2, how: storeHalf, wantPatches: 4, wantPuts: 1},
		{name: "session forgot", method: "PATCH", nth: 2, how: forget, wantPatches: 2, wantErr: "not between 1000 and 2000"},
		{name: "session gone", method: "PATCH", nth: 2, how: drop, wantPatches: 2, wantErr: "asking the session what it holds"},
		{name: "commit stored, answer lost", method: "PUT", nth: 1, how: serveLost, wantPatches: 3, wantPuts: 1},
		{name: "commit refused", method: "PUT", nth: 1, how: fail503, wantPatches: 3, wantPuts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen atomic.Int32
			var tr *testReg
			tr, c := newTestReg(t, func(reg *testReg) {
				reg.hook = func(w http.ResponseWriter, r *http.Request) bool {
					if r.Method != tc.method || seen.Add(1) != tc.nth {
						return false
					}
					id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
					switch tc.how {
					case serveLost:
						reg.serveUpload(httptest.NewRecorder(), r, "demo", id)
						hijack(t, w).Close()
					case fail503:
						io.Copy(io.Discard, r.Body)
						w.WriteHeader(http.StatusServiceUnavailable)
					case storeHalf:
						half := make([]byte, r.ContentLength/2)
						io.ReadFull(r.Body, half)
						reg.mu.Lock()
						reg.uploads[id].Write(half)
						reg.mu.Unlock()
						reset(hijack(t, w))
					case forget, drop:
						io.Copy(io.Discard, r.Body)
						reg.mu.Lock()
						if tc.how == drop {
							delete(reg.uploads, id)
						} else {
							reg.uploads[id].Reset()
						}
						reg.mu.Unlock()
						w.WriteHeader(http.StatusServiceUnavailable)
					}
					return true
				}
			}, WithChunkSize(1000))
			waits := fastSleep(c)
			w, err := c.StartUpload(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			if _, err = w.Write(data); err == nil {
				err = w.Commit(t.Context(), ocispec.Descriptor{Digest: d, Size: int64(len(data))})
			}
			log := tr.requests()
			if got := countPrefixed(log, "PATCH "); got != tc.wantPatches {
				t.Errorf("%d PATCHes, want %d: %v", got, tc.wantPatches, log)
			}
			if got := countPrefixed(log, "PUT "); got != tc.wantPuts {
				t.Errorf("%d PUTs, want %d: %v", got, tc.wantPuts, log)
			}
			if len(waits.get()) != 1 {
				t.Errorf("waits %v, want one", waits.get())
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("upload = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("upload = %v", err)
			}
			tr.mu.Lock()
			got := tr.blobs[d]
			tr.mu.Unlock()
			if !bytes.Equal(got, data) {
				t.Errorf("stored %d bytes, want the %d written", len(got), len(data))
			}
		})
	}
}

// TestWriterGivesUp stops after the policy's attempts, and on errors that
// are not transient.
func TestWriterGivesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		policy      RetryPolicy
		wantPatches int
	}{
		{name: "always 503", status: 503, policy: RetryPolicy{MaxAttempts: 3}, wantPatches: 3},
		{name: "retries off", status: 503, policy: RetryPolicy{MaxAttempts: 1}, wantPatches: 1},
		{name: "500", status: 500, wantPatches: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, func(reg *testReg) {
				reg.hook = func(w http.ResponseWriter, r *http.Request) bool {
					if r.Method != http.MethodPatch {
						return false
					}
					io.Copy(io.Discard, r.Body)
					w.WriteHeader(tc.status)
					return true
				}
			}, WithRetry(tc.policy))
			fastSleep(c)
			w, err := c.StartUpload(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Write([]byte("some bytes"))
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != tc.status {
				t.Fatalf("Write = %v, want a %d", err, tc.status)
			}
			if got := countPrefixed(tr.requests(), "PATCH "); got != tc.wantPatches {
				t.Errorf("%d PATCHes, want %d", got, tc.wantPatches)
			}
			if _, err := w.Write([]byte("more")); err == nil {
				t.Error("Write after a failure succeeded")
			}
		})
	}
}

// TestGetBlobResumeRetried retries the Range request of a resume, which
// counts as one resume.
func TestGetBlobResumeRetried(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("abcdefghij"), 1000)
	d := digest.FromBytes(blob)
	mux, c := newMux(t)
	waits := fastSleep(c)
	var mu sync.Mutex
	var ranges []string
	mux.HandleFunc("GET /v2/demo/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		n := len(ranges)
		mu.Unlock()
		switch n {
		case 1:
			cutAfter(t, w, 200, http.Header{}, blob, 3000)
		case 2, 3:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(blob))
		}
	})
	rc, _, err := c.GetBlob(t.Context(), "demo", d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(blob))
	}
	if r := rc.(*blobReader); r.resumes != 1 {
		t.Errorf("%d resumes, want 1", r.resumes)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"", "bytes=3000-", "bytes=3000-", "bytes=3000-"}
	if fmt.Sprint(ranges) != fmt.Sprint(want) || len(waits.get()) != 2 {
		t.Errorf("ranges asked %q, waits %v; want %q and 2 waits", ranges, waits.get(), want)
	}
}
