package verify

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// TestHashAheadReusesBuffers reads big blobs one after another, to their
// end, to a corrupt end and abandoned midway: the hasher's buffers come
// back to the pool each time, so a read allocates far less than the
// aheadBufs × aheadBufSize bytes a blob held before. It measures the
// process's allocations, so it does not run in parallel.
func TestHashAheadReusesBuffers(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), (hashAheadMin+12345)/16)
	corrupt := bytes.Clone(content)
	corrupt[len(corrupt)-3] ^= 1
	desc := ocispec.Descriptor{Digest: digest.FromBytes(content), Size: int64(len(content))}
	buf := make([]byte, 64<<10)
	for _, tc := range []struct {
		name    string
		data    []byte
		limit   int64 // bytes read before Close; 0: all
		wantErr error
	}{
		{"to the end", content, 0, nil},
		{"corrupt", corrupt, 0, transport.ErrDigestInvalid},
		{"failing source", content, 1 << 20, errSource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := func() {
				var src io.Reader = bytes.NewReader(tc.data)
				if tc.limit > 0 {
					src = io.MultiReader(io.LimitReader(src, tc.limit), failingReader{})
				}
				r, err := NewReader(io.NopCloser(src), desc)
				if err != nil {
					t.Fatal(err)
				}
				_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("copy = %v, want %v", err, tc.wantErr)
				}
				r.Close()
			}
			read() // fills the pool
			const runs = 10
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				read()
			}
			runtime.ReadMemStats(&after)
			per := (after.TotalAlloc - before.TotalAlloc) / runs
			if per >= aheadBufSize {
				t.Errorf("a read of a %d-byte blob allocates %d bytes: the hasher's buffers (%d bytes) are not reused", len(content), per, aheadBufs*aheadBufSize)
			}
		})
	}
}

var errSource = errors.New("source failed")

// failingReader fails every read with errSource.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errSource }
