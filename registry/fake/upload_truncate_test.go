package fake

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

func TestUploadTruncate(t *testing.T) {
	t.Parallel()
	data := pattern(2*chunkSize + 100)
	for _, m := range modes {
		for _, keep := range []int{0, 5, firstChunk, chunkSize - 1, chunkSize, chunkSize + 7, 2 * chunkSize, len(data)} {
			for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
				s := m.store()
				ctx := t.Context()
				w, err := s.StartUpload(ctx, "repo")
				checkErr(t, "StartUpload", err, nil)
				if _, err := w.Write(data); err != nil {
					t.Fatal(err)
				}
				tr := w.(transport.BlobTruncater)
				checkErr(t, "Truncate(-1)", tr.Truncate(-1), transport.ErrBlobUploadInvalid)
				checkErr(t, "Truncate beyond Size", tr.Truncate(int64(len(data)+1)), transport.ErrBlobUploadInvalid)
				checkErr(t, "Truncate", tr.Truncate(int64(keep)), nil)
				if w.Size() != int64(keep) || s.UploadBytes() != int64(keep) {
					t.Fatalf("Truncate(%d): Size() = %d, UploadBytes() = %d", keep, w.Size(), s.UploadBytes())
				}
				// Garbage after the point kept, undone again: the space is reused.
				if _, err := w.Write([]byte("garbage")); err != nil {
					t.Fatal(err)
				}
				checkErr(t, "Truncate", tr.Truncate(int64(keep)), nil)
				if _, err := w.Write(data[keep:]); err != nil {
					t.Fatal(err)
				}
				if err := w.Commit(ctx, descOf(alg, data)); err != nil {
					t.Fatalf("%s, keep %d, %s: Commit: %v", m.name, keep, alg, err)
				}
				if s.UploadBytes() != 0 {
					t.Fatalf("UploadBytes() = %d after Commit, want 0", s.UploadBytes())
				}
				checkErr(t, "Truncate after Commit", tr.Truncate(0), transport.ErrBlobUploadUnknown)
			}
		}
	}
}
