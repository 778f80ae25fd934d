package layer_test

import (
	"bytes"
	"io"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/layer"
)

func TestZstdRoundTrip(t *testing.T) {
	files := []layer.File{
		{Name: "etc/motd", Mode: 0o644, Content: bytes.Repeat([]byte("hello zstd\n"), 1000)},
		{Name: "bin/sh", Mode: 0o755, Content: []byte("ELF")},
	}
	l := layer.FromFiles(files, layer.WithCompression(layer.Zstd))
	// encode decompresses it (by media type) and checks the diff_id.
	info, b := encode(t, l)
	assert.Equal(t, ocispec.MediaTypeImageLayerZstd, info.Descriptor.MediaType)
	hs, content := headers(t, info.Descriptor.MediaType, b)
	assert.Equal(t, []string{"bin/sh", "etc/motd"}, names(hs))
	assert.Equal(t, string(files[0].Content), content["etc/motd"])

	// The same tar compressed otherwise has the same diff_id.
	plain, _ := encode(t, layer.FromFiles(files, layer.WithCompression(layer.Uncompressed)))
	assert.Equal(t, plain.DiffID, info.DiffID)
	again, _ := encode(t, layer.FromFiles(files, layer.WithCompression(layer.Zstd)))
	assert.Equal(t, info, again, "reproducible")
}

// zstdFrame returns a zstd frame of one raw block holding "x", whose header
// asks for a window of 1<<windowLog bytes.
func zstdFrame(windowLog int) []byte {
	return []byte{
		0x28, 0xb5, 0x2f, 0xfd, // magic
		0x00,                        // no content size, not single segment, no checksum
		byte((windowLog - 10) << 3), // window descriptor
		0x09, 0x00, 0x00,            // last block, raw, size 1
		'x',
	}
}

func TestZstdWindowBound(t *testing.T) {
	tests := []struct {
		windowLog int
		ok        bool
	}{
		{20, true},
		{27, true}, // MaxZstdWindow
		{28, false},
		{31, false},
	}
	for _, tt := range tests {
		rc, err := layer.Decompress(ocispec.MediaTypeImageLayerZstd, bytes.NewReader(zstdFrame(tt.windowLog)))
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		if tt.ok {
			require.NoError(t, err, tt.windowLog)
			assert.Equal(t, "x", string(got))
		} else {
			assert.ErrorContains(t, err, "window", tt.windowLog)
		}
		rc.Close()
	}
}

func TestDecompressTruncated(t *testing.T) {
	for _, c := range []layer.Compression{layer.Gzip, layer.Zstd} {
		_, b := encode(t, layer.FromFiles([]layer.File{{Name: "a", Mode: 0o644, Content: bytes.Repeat([]byte("x"), 1<<16)}}, layer.WithCompression(c)))
		mt := map[layer.Compression]string{layer.Gzip: ocispec.MediaTypeImageLayerGzip, layer.Zstd: ocispec.MediaTypeImageLayerZstd}[c]
		rc, err := layer.Decompress(mt, bytes.NewReader(b[:len(b)/2]))
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
		}
		assert.Error(t, err, c.String())
	}
}
