package layer_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/image/layer"
)

const benchSize = 256 << 20

// benchTree writes 256 MiB under a new directory of b: 64 files of 4 MiB in
// 8 directories, each file half random bytes and half text, so that gzip
// has work to do and something to gain.
func benchTree(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	rng := rand.NewChaCha8([32]byte{42})
	const fileSize, block = 4 << 20, 4 << 10
	text := []byte("the quick brown fox jumps over the lazy dog 0123456789\n")
	buf := make([]byte, fileSize)
	for i := 0; i < benchSize/fileSize; i++ {
		for off := 0; off < fileSize; off += block {
			if off/block%2 == 0 {
				_, _ = rng.Read(buf[off : off+block])
			} else {
				for k := off; k < off+block; k += copy(buf[k:off+block], text) {
				}
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%8), fmt.Sprintf("f%02d", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// reportMBs reports the input bytes per second, as "MB/s" (10^6 bytes).
func reportMBs(b *testing.B) {
	b.ReportMetric(float64(benchSize)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// BenchmarkFromDir builds a layer of a 256 MiB directory, as each
// compression does it: tar, hashes (digest and diff_id) and compression in
// one pass. Compare with BenchmarkGzipAlone, the limit for gzip.
func BenchmarkFromDir(b *testing.B) {
	b.StopTimer()
	dir := benchTree(b)
	b.StartTimer()
	for _, c := range []layer.Compression{layer.Gzip, layer.Uncompressed, layer.Zstd} {
		b.Run(c.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := layer.FromDir(dir, layer.WithCompression(c)).Encode(b.Context(), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			reportMBs(b)
		})
	}
}

// BenchmarkGzipAlone compresses the same 256 MiB of files with
// compress/gzip at the same level, and nothing else: no tar, no hashes.
func BenchmarkGzipAlone(b *testing.B) {
	b.StopTimer()
	dir := benchTree(b)
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	b.StartTimer()
	b.ReportAllocs()
	for b.Loop() {
		zw, _ := gzip.NewWriterLevel(io.Discard, layer.DefaultGzipLevel)
		for _, p := range files {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(zw, f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportMBs(b)
}
