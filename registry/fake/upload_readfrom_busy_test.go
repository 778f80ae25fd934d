package fake

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// TestUploadReadFromExclusive: while a request body is read into a session
// (ReadFrom, outside the session's lock, hashed on another goroutine), a
// second request on the same session ID cannot write, truncate or commit
// it: each fails with BLOB_UPLOAD_INVALID, and the body read stages and
// hashes exactly its bytes. Before, a concurrent Truncate(0) made the
// reader stage into a dropped chunk (an index-out-of-range panic), a
// concurrent Write interleaved into the space being read into, and a
// concurrent Commit read the hash the goroutine was writing.
func TestUploadReadFromExclusive(t *testing.T) {
	t.Parallel()
	for _, other := range []string{"write", "truncate", "commit", "readfrom"} {
		t.Run(other, func(t *testing.T) {
			t.Parallel()
			s := NewStore()
			ctx := t.Context()
			w, err := s.StartUpload(ctx, "demo")
			if err != nil {
				t.Fatal(err)
			}
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				_, err := w.(io.ReaderFrom).ReadFrom(pr)
				done <- err
			}()
			if _, err := pw.Write([]byte("aaaa")); err != nil {
				t.Fatal(err)
			}
			for w.Size() != 4 {
				time.Sleep(time.Millisecond)
			}
			var oerr error
			switch other {
			case "write":
				_, oerr = w.Write([]byte("zz"))
			case "truncate":
				oerr = w.(transport.BlobTruncater).Truncate(0)
			case "commit":
				oerr = w.Commit(ctx, ocispec.Descriptor{Digest: digest.FromString("aaaa")})
			case "readfrom":
				_, oerr = w.(io.ReaderFrom).ReadFrom(io.LimitReader(neverEOF{}, 2))
			}
			if !errors.Is(oerr, transport.ErrBlobUploadInvalid) {
				t.Errorf("%s during a ReadFrom: %v, want BLOB_UPLOAD_INVALID", other, oerr)
			}
			if _, err := pw.Write([]byte("bbbb")); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			if err := <-done; err != nil {
				t.Fatalf("ReadFrom: %v", err)
			}
			want := ocispec.Descriptor{Digest: digest.FromString("aaaabbbb"), Size: 8}
			if err := w.Commit(ctx, want); err != nil {
				t.Fatalf("commit after the ReadFrom: %v", err)
			}
		})
	}
}

// neverEOF reads zeros.
type neverEOF struct{}

func (neverEOF) Read(p []byte) (int, error) { clear(p); return len(p), nil }
