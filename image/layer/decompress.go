package layer

import (
	"compress/gzip"
	"fmt"
	"io"
	"strings"
)

// UnsupportedError says a layer's media type names a compression, or a
// format, that this package cannot open.
type UnsupportedError struct {
	// MediaType is the layer's media type.
	MediaType string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("layer media type %q: not a tar, tar+gzip or tar+zstd layer", e.MediaType)
}

// Compression is how a layer's tar is compressed.
type Compression int

const (
	// Uncompressed is a plain tar.
	Uncompressed Compression = iota
	// Gzip is a tar compressed with gzip.
	Gzip
	// Zstd is a tar compressed with zstd.
	Zstd
)

// String returns "uncompressed", "gzip" or "zstd".
func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return "uncompressed"
}

// CompressionOf returns the compression a layer media type names: OCI
// (application/vnd.oci.image.layer.v1.tar, +gzip, +zstd, and their
// non-distributable forms) and Docker (…rootfs.diff.tar.gzip, foreign
// layers). Other media types give an [*UnsupportedError].
func CompressionOf(mediaType string) (Compression, error) {
	switch mt := strings.ToLower(mediaType); {
	case strings.HasSuffix(mt, ".tar") || strings.HasSuffix(mt, "/tar"):
		return Uncompressed, nil
	case strings.HasSuffix(mt, ".tar+gzip") || strings.HasSuffix(mt, ".tar.gzip") || strings.HasSuffix(mt, "/tar+gzip"):
		return Gzip, nil
	case strings.HasSuffix(mt, ".tar+zstd") || strings.HasSuffix(mt, "/tar+zstd"):
		return Zstd, nil
	}
	return 0, &UnsupportedError{MediaType: mediaType}
}

// Decompress returns the uncompressed tar of a layer of the given media
// type, read from r. Closing it does not close r. It reads as it is read:
// memory stays flat in the layer's size.
func Decompress(mediaType string, r io.Reader) (io.ReadCloser, error) {
	c, err := CompressionOf(mediaType)
	if err != nil {
		return nil, err
	}
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("layer of type %s: %w", mediaType, err)
		}
		return zr, nil
	case Zstd:
		return openZstd(mediaType, r)
	}
	return io.NopCloser(r), nil
}
