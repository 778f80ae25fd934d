package files_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
)

// Shape of the benchmark image: 20 gzip layers of 16 files of 256 KiB
// (random words of a small vocabulary: gzip shrinks them to about a
// third, as it does binaries and text): 80 MiB of tar in all. Each upper
// layer also deletes a file of the layer below.
const (
	benchLayers   = 20
	benchFiles    = 16
	benchFileSize = 256 << 10
)

var words = []string{"content ", "layer\n\t\t", "\x00\x00\x00\x00\x00\x00\x00\x00", "registry", "ELF\x02\x01\x01\x00\x00", "func(ctx", "0123abcd", "\xff\xfe\x00\x10\x7f\x80\x01\x02"}

// benchImage builds the benchmark image; tarSize is each layer's tar size.
func benchImage(b *testing.B) (img *image.Image, tarSize int64) {
	b.Helper()
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	body := make([]byte, benchFileSize)
	var layers []image.Blob
	for l := range benchLayers {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		require.NoError(b, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("layer%02d/", l), Typeflag: tar.TypeDir, Mode: 0o755}))
		for f := range benchFiles {
			for i := 0; i < len(body); i += 8 {
				copy(body[i:], words[rng.IntN(len(words))])
			}
			require.NoError(b, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("layer%02d/file%02d", l, f), Typeflag: tar.TypeReg, Mode: 0o644, Size: benchFileSize}))
			_, err := tw.Write(body)
			require.NoError(b, err)
		}
		if l > 0 {
			require.NoError(b, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("layer%02d/.wh.file00", l-1), Typeflag: tar.TypeReg}))
		}
		require.NoError(b, tw.Close())
		tarSize = int64(tb.Len())
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, err := zw.Write(tb.Bytes())
		require.NoError(b, err)
		require.NoError(b, zw.Close())
		layers = append(layers, image.BytesBlob(ocispec.MediaTypeImageLayerGzip, zb.Bytes()))
	}
	return imageOfBlobs(b, nil, layers...), tarSize
}

// BenchmarkFlatten flattens the 20-layer image to io.Discard; MB/s counts
// the layers' uncompressed tar.
func BenchmarkFlatten(b *testing.B) {
	img, tarSize := benchImage(b)
	ctx := context.Background()
	b.SetBytes(tarSize * benchLayers)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := files.Flatten(ctx, img, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGunzipLayers is the floor under Flatten: gunzip and read every
// layer's tar, doing nothing else.
func BenchmarkGunzipLayers(b *testing.B) {
	img, tarSize := benchImage(b)
	ctx := context.Background()
	b.SetBytes(tarSize * benchLayers)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, l := range img.Layers() {
			rc, err := l.Open(ctx)
			if err != nil {
				b.Fatal(err)
			}
			zr, err := gzip.NewReader(rc)
			if err != nil {
				b.Fatal(err)
			}
			tr := tar.NewReader(zr)
			for {
				if _, err := tr.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, tr); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkReadFile reads one 256 KiB file out of the 20-layer image, from
// the top layer (one layer read) and from the base (all read). MB/s counts
// the uncompressed tar of the layers read; files/s is whole reads.
func BenchmarkReadFile(b *testing.B) {
	img, tarSize := benchImage(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		path   string
		layers int64
	}{
		{name: "top", path: fmt.Sprintf("layer%02d/file05", benchLayers-1), layers: 1},
		{name: "base", path: "layer00/file05", layers: benchLayers},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(tarSize * bc.layers)
			b.ReportAllocs()
			for b.Loop() {
				data, err := files.ReadFile(ctx, img, bc.path)
				if err != nil {
					b.Fatal(err)
				}
				if len(data) != benchFileSize {
					b.Fatalf("read %d bytes", len(data))
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
