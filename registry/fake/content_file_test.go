package fake

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// mode is a way content keeps its bytes; the tests of content, uploads
// and blobs run over all of them.
type mode struct {
	name    string
	spillAt int64
}

var modes = []mode{
	{"heap", -1},         // in chunks, always
	{"file", 0},          // in a file from the first byte
	{"spill", chunkSize}, // the default: moved to a file beyond a chunk
}

// store returns a Store whose contents keep their bytes as m says.
func (m mode) store(opts ...Option) *Store {
	s := NewStore(opts...)
	s.files.spillAt = m.spillAt
	return s
}

// needMemfd skips the test where contents cannot move to files.
func needMemfd(t *testing.T) {
	t.Helper()
	f, err := openMemfd()
	if err != nil {
		t.Skipf("no file in memory here: %v", err)
	}
	f.Close()
}

// memfds counts the open memfds of the process.
func memfds(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list the open files: %v", err)
	}
	n := 0
	for _, e := range entries {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(link, "/memfd:") {
			n++
		}
	}
	return n
}

// checkHeld checks that the files of s hold want bytes.
func checkHeld(t *testing.T, s *Store, what string, want int64) {
	t.Helper()
	if got := s.files.held.Load(); got != want {
		t.Errorf("%s: the files hold %d bytes, want %d", what, got, want)
	}
}

// checkDeleted deletes the blob d from repo, the last repository to hold
// it, and checks that no file holds bytes any more.
func checkDeleted(t *testing.T, s *Store, repo string, d digest.Digest) {
	t.Helper()
	checkErr(t, "DeleteBlob", s.DeleteBlob(t.Context(), repo, d), nil)
	checkHeld(t, s, "after the last DeleteBlob", 0)
}

// TestContentFileLifetime checks that the file of a content stays open
// while someone may read it, and closes once no one can: when the blob is
// deleted and its readers are closed (or forgotten), when a copy is
// dropped, and when an upload ends.
func TestContentFileLifetime(t *testing.T) {
	t.Parallel()
	needMemfd(t)
	data := pattern(3*chunkSize + 5)
	desc := descOf(digest.SHA256, data)
	size := int64(len(data))
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"delete while a reader is open", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			rc, _, err := s.GetBlob(t.Context(), "a", desc.Digest)
			checkErr(t, "GetBlob", err, nil)
			checkErr(t, "DeleteBlob", s.DeleteBlob(t.Context(), "a", desc.Digest), nil)
			checkHeld(t, s, "deleted, a reader open", size)
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("the reader of a deleted blob read %d bytes, %v; want all %d", len(got), err, size)
			}
			checkErr(t, "Close", rc.Close(), nil)
			checkErr(t, "Close again", rc.Close(), nil)
			checkHeld(t, s, "deleted, the reader closed", 0)
		}},
		{"closed twice at once", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			first, _, err := s.GetBlob(t.Context(), "a", desc.Digest)
			checkErr(t, "GetBlob", err, nil)
			second, _, err := s.GetBlob(t.Context(), "a", desc.Digest)
			checkErr(t, "GetBlob", err, nil)
			checkErr(t, "DeleteBlob", s.DeleteBlob(t.Context(), "a", desc.Digest), nil)
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() { first.Close() })
			}
			wg.Wait()
			got, err := io.ReadAll(second)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("after another reader was closed twice at once, a reader read %d bytes, %v; want all %d", len(got), err, size)
			}
			second.Close()
			checkHeld(t, s, "both readers closed", 0)
		}},
		{"close before delete", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			for range 3 {
				rc, _, err := s.GetBlob(t.Context(), "a", desc.Digest)
				checkErr(t, "GetBlob", err, nil)
				io.Copy(io.Discard, rc) // WriteTo
				rc.Close()
			}
			checkHeld(t, s, "readers closed", size)
			checkDeleted(t, s, "a", desc.Digest)
		}},
		{"reader never closed", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			func() {
				rc, _, err := s.GetBlob(t.Context(), "a", desc.Digest)
				checkErr(t, "GetBlob", err, nil)
				rc.Read(make([]byte, 10))
			}()
			checkErr(t, "DeleteBlob", s.DeleteBlob(t.Context(), "a", desc.Digest), nil)
			for i := 0; s.files.held.Load() != 0 && i < 100; i++ {
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
			checkHeld(t, s, "deleted, the reader forgotten", 0)
		}},
		{"mounted, deleted from both", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			checkErr(t, "MountBlob", s.MountBlob(t.Context(), "b", "a", desc.Digest), nil)
			checkErr(t, "DeleteBlob(a)", s.DeleteBlob(t.Context(), "a", desc.Digest), nil)
			checkHeld(t, s, "deleted from a", size)
			checkDeleted(t, s, "b", desc.Digest)
		}},
		{"put again and forged", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			putBlob(t, s, "b", data) // read and verified, not stored
			forged := bytes.Clone(data)
			forged[len(forged)-1]++
			checkErr(t, "PutBlob(forged)", s.PutBlob(t.Context(), "c", desc, bytes.NewReader(forged)), transport.ErrDigestInvalid)
			checkErr(t, "PutBlob(fresh, forged)", s.PutBlob(t.Context(), "c", descOf(digest.SHA256, forged), bytes.NewReader(data)), transport.ErrDigestInvalid)
			checkHeld(t, s, "one blob", size)
			checkErr(t, "DeleteBlob(a)", s.DeleteBlob(t.Context(), "a", desc.Digest), nil)
			checkDeleted(t, s, "b", desc.Digest)
		}},
		{"upload committed twice", func(t *testing.T, s *Store) {
			putBlob(t, s, "a", data)
			w, err := s.StartUpload(t.Context(), "b")
			checkErr(t, "StartUpload", err, nil)
			w.Write(data)
			checkHeld(t, s, "blob and session", 2*size)
			checkErr(t, "Commit", w.Commit(t.Context(), desc), nil)
			checkHeld(t, s, "the session's copy dropped", size)
			checkErr(t, "DeleteBlob(a)", s.DeleteBlob(t.Context(), "a", desc.Digest), nil)
			checkDeleted(t, s, "b", desc.Digest)
		}},
		{"upload cancelled or refused", func(t *testing.T, s *Store) {
			for _, end := range []func(w transport.BlobWriter) error{
				func(w transport.BlobWriter) error { return w.Cancel(t.Context()) },
				func(w transport.BlobWriter) error { return w.Commit(t.Context(), descOf(digest.SHA256, data[1:])) },
				func(w transport.BlobWriter) error { return w.Commit(t.Context(), descOf(digest.SHA512, data[1:])) },
			} {
				w, err := s.StartUpload(t.Context(), "a")
				checkErr(t, "StartUpload", err, nil)
				w.(io.ReaderFrom).ReadFrom(bytes.NewReader(data))
				checkHeld(t, s, "a session", size)
				end(w) // cancelled, or refused with DIGEST_INVALID
				checkHeld(t, s, "the session ended", 0)
			}
		}},
		{"upload truncated", func(t *testing.T, s *Store) {
			w, err := s.StartUpload(t.Context(), "a")
			checkErr(t, "StartUpload", err, nil)
			w.Write(data)
			checkErr(t, "Truncate", w.(transport.BlobTruncater).Truncate(chunkSize), nil)
			checkHeld(t, s, "truncated", chunkSize)
			checkErr(t, "Cancel", w.Cancel(t.Context()), nil)
			checkHeld(t, s, "cancelled", 0)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, NewStore())
		})
	}
}

// TestUploadExpiryClosesFile checks that an expired session's file closes.
func TestUploadExpiryClosesFile(t *testing.T) {
	t.Parallel()
	needMemfd(t)
	clock := newFakeClock()
	s := NewStore(WithUploadExpiry(time.Minute), func(s *Store) { s.now = clock.Now })
	w, err := s.StartUpload(t.Context(), "a")
	checkErr(t, "StartUpload", err, nil)
	w.Write(pattern(2 * chunkSize))
	checkHeld(t, s, "a session", 2*chunkSize)
	clock.Advance(time.Hour)
	if s.Uploads() != 0 {
		t.Fatalf("Uploads() = %d after the expiry, want 0", s.Uploads())
	}
	checkHeld(t, s, "the session expired", 0)
}

// failingFile is a file in the Go heap whose writes fail once it holds
// failAt bytes.
type failingFile struct {
	mu     sync.Mutex
	b      []byte
	failAt int
	closed *int
}

func (f *failingFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off >= int64(len(f.b)) {
		return 0, io.EOF
	}
	n := copy(p, f.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *failingFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(p)
	if end := int(off) + n; end > f.failAt {
		n = max(f.failAt-int(off), 0)
	}
	if end := int(off) + n; end > len(f.b) {
		f.b = append(f.b, make([]byte, end-len(f.b))...)
	}
	copy(f.b[off:], p[:n])
	if n < len(p) {
		return n, syscall.ENOSPC
	}
	return n, nil
}

func (f *failingFile) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.b = f.b[:size]
	return nil
}

func (f *failingFile) Close() error {
	*f.closed++
	return nil
}

// TestContentFileFails checks that content whose file cannot be made, or
// fails, keeps its bytes in chunks, all of them, whether it fails when the
// bytes move to it or later, and closes the file that failed.
func TestContentFileFails(t *testing.T) {
	t.Parallel()
	data := pattern(3*chunkSize + 77)
	desc := descOf(digest.SHA512, data)
	ways := []struct {
		name string
		put  func(s *Store) error
	}{
		{"PutBlob", func(s *Store) error { return s.PutBlob(t.Context(), "a", desc, bytes.NewReader(data)) }},
		{"ReadFrom", func(s *Store) error {
			w, err := s.StartUpload(t.Context(), "a")
			if err != nil {
				return err
			}
			if _, err := w.(io.ReaderFrom).ReadFrom(io.LimitReader(bytes.NewReader(data), int64(len(data)))); err != nil {
				return err
			}
			return w.Commit(t.Context(), desc)
		}},
		{"Write", func(s *Store) error {
			w, err := s.StartUpload(t.Context(), "a")
			if err != nil {
				return err
			}
			for rest := data; len(rest) > 0; rest = rest[min(len(rest), 32<<10):] {
				if _, err := w.Write(rest[:min(len(rest), 32<<10)]); err != nil {
					return err
				}
			}
			return w.Commit(t.Context(), desc)
		}},
	}
	for _, tc := range []struct {
		name    string
		spillAt int64
		failAt  int  // -1: no file can be made
		opened  bool // a file was made, and must be closed
	}{
		{"no file", chunkSize, -1, false},
		{"fails when spilled", chunkSize, 100, true},
		{"fails at once", 0, 0, true},
		{"fails later", chunkSize, 2*chunkSize + 3, true},
		{"fails later, file from the start", 0, chunkSize + 3, true},
	} {
		for _, way := range ways {
			t.Run(tc.name+"/"+way.name, func(t *testing.T) {
				t.Parallel()
				s := NewStore()
				s.files.spillAt = tc.spillAt
				var opened, closed int
				s.files.open = func() (blobFile, error) {
					if tc.failAt < 0 {
						return nil, syscall.ENOSYS
					}
					opened++
					return &failingFile{failAt: tc.failAt, closed: &closed}, nil
				}
				checkErr(t, way.name, way.put(s), nil)
				rc, _, err := s.GetBlob(t.Context(), "a", desc.Digest)
				checkErr(t, "GetBlob", err, nil)
				got, err := io.ReadAll(rc)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("read %d bytes, %v; want the %d put", len(got), err, len(data))
				}
				rc.Close()
				checkChunks(t, s.blobs[desc.Digest].data)
				if s.blobs[desc.Digest].data.file != nil {
					t.Error("the blob is in a file that failed")
				}
				if tc.opened != (opened == 1) || closed != opened {
					t.Errorf("%d files made, %d closed; want %v made, and closed", opened, closed, tc.opened)
				}
				checkHeld(t, s, "files failed", 0)
			})
		}
	}
}

// TestServerBlobFiles pushes, deletes and abandons large blobs over HTTP,
// and checks that no memfd is left open.
func TestServerBlobFiles(t *testing.T) {
	needMemfd(t)
	runtime.GC() // closes the files of readers earlier tests forgot
	before := memfds(t)
	srv := Serve(t)
	c, err := remote.New(srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(3*chunkSize + 1)
	for i := range 4 {
		data[0] = byte(i)
		desc := descOf(digest.SHA256, data)
		checkErr(t, "PutBlob", c.PutBlob(t.Context(), "a", desc, bytes.NewReader(data)), nil)
		rc, _, err := srv.Store.GetBlob(t.Context(), "a", desc.Digest)
		checkErr(t, "GetBlob", err, nil)
		checkErr(t, "DeleteBlob", srv.Store.DeleteBlob(t.Context(), "a", desc.Digest), nil)
		io.Copy(io.Discard, rc)
		rc.Close()
		w, err := srv.Store.StartUpload(t.Context(), "a")
		checkErr(t, "StartUpload", err, nil)
		w.Write(data)
		checkErr(t, "Cancel", w.Cancel(t.Context()), nil)
	}
	checkHeld(t, srv.Store, "all deleted", 0)
	if after := memfds(t); after != before {
		t.Errorf("%d memfds open, %d before", after, before)
	}
}
