package fake

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/regkit/regkit/transport"
)

// brokenFile is a failingFile that cannot be read back either: its bytes
// cannot move back to chunks once a write fails.
type brokenFile struct{ failingFile }

func (f *brokenFile) ReadAt(p []byte, off int64) (int, error) { return 0, syscall.EIO }

// TestUploadFileFailsAccounting checks that a write whose file fails, and
// whose bytes cannot move back to chunks, stages nothing and counts
// nothing in the bytes of the open sessions, by Write or ReadFrom.
func TestUploadFileFailsAccounting(t *testing.T) {
	t.Parallel()
	data := pattern(3 * chunkSize)
	for _, tc := range []struct {
		name  string
		write func(w transport.BlobWriter) error
	}{
		{"Write", func(w transport.BlobWriter) error {
			if _, err := w.Write(data[:chunkSize]); err != nil {
				return err
			}
			_, err := w.Write(data[chunkSize:])
			return err
		}},
		{"ReadFrom", func(w transport.BlobWriter) error {
			_, err := w.(io.ReaderFrom).ReadFrom(io.LimitReader(bytes.NewReader(data), int64(len(data))))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore()
			s.files.spillAt = 0
			var closed int
			s.files.open = func() (blobFile, error) {
				return &brokenFile{failingFile{failAt: chunkSize + 3, closed: &closed}}, nil
			}
			w, err := s.StartUpload(t.Context(), "a")
			checkErr(t, "StartUpload", err, nil)
			if err := tc.write(w); !errors.Is(err, syscall.EIO) {
				t.Fatalf("write: %v, want the file's EIO", err)
			}
			if got, want := s.UploadBytes(), w.Size(); got != want {
				t.Errorf("UploadBytes() = %d, the session holds %d", got, want)
			}
			checkErr(t, "Cancel", w.Cancel(t.Context()), nil)
			if got := s.UploadBytes(); got != 0 {
				t.Errorf("UploadBytes() = %d once the session is cancelled, want 0", got)
			}
			if closed != 1 {
				t.Errorf("the file was closed %d times, want once", closed)
			}
		})
	}
}
