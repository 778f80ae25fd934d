package layer

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// MaxZstdWindow is the largest zstd window [Decompress] accepts: 128 MiB,
// what `zstd --long=27` writes. A layer whose frames ask for more is
// refused, rather than have a layer from a registry decide how much memory
// reading it takes.
const MaxZstdWindow = 128 << 20

// openZstd returns the decompressed stream of a zstd layer. It decodes in
// the goroutine that reads, holding one window of memory at most.
func openZstd(mediaType string, r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(MaxZstdWindow))
	if err != nil {
		return nil, fmt.Errorf("layer of type %s: %w", mediaType, err)
	}
	return d.IOReadCloser(), nil
}

// newZstdWriter returns a zstd compressor writing to w, encoding in the
// goroutine that writes so that its output depends on its input alone.
func newZstdWriter(w io.Writer) (io.WriteCloser, error) {
	return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
}
