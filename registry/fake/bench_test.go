package fake

import (
	"bytes"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
)

const benchSize = 64 << 20

// BenchmarkPutBlob pushes a new 64 MiB blob each iteration (deleting the
// previous one, so that the store does not just verify a duplicate).
func BenchmarkPutBlob(b *testing.B) {
	data := pattern(benchSize)
	desc := descOf(digest.SHA256, data)
	s := NewStore()
	ctx := b.Context()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutBlob(ctx, "bench", desc, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := s.DeleteBlob(ctx, "bench", desc.Digest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutBlobDuplicate pushes a 64 MiB blob the store already holds:
// it is verified, not stored again.
func BenchmarkPutBlobDuplicate(b *testing.B) {
	data := pattern(benchSize)
	desc := descOf(digest.SHA256, data)
	s := NewStore()
	ctx := b.Context()
	if err := s.PutBlob(ctx, "bench", desc, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutBlob(ctx, "bench", desc, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetBlob reads a 64 MiB blob: with WriteTo, as io.Copy does (the
// chunks are handed over, not copied), and with Read into a 32 KiB buffer.
func BenchmarkGetBlob(b *testing.B) {
	data := pattern(benchSize)
	desc := descOf(digest.SHA256, data)
	s := NewStore()
	if err := s.PutBlob(b.Context(), "bench", desc, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		read func(r io.Reader) (int64, error)
	}{
		{"WriteTo", func(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }},
		{"Read", func(r io.Reader) (int64, error) {
			return io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{r}, make([]byte, 32<<10))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				rc, _, err := s.GetBlob(b.Context(), "bench", desc.Digest)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := bc.read(rc); err != nil || n != benchSize {
					b.Fatal(n, err)
				}
				rc.Close()
			}
		})
	}
}
