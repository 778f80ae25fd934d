package image_test

import (
	"testing"

	"github.com/regkit/regkit/image"
	realworld "github.com/regkit/regkit/internal/fixtures"
)

// benchFixture reads a fixture for a benchmark.
func benchFixture(b *testing.B, name string) []byte {
	b.Helper()
	return realworld.Read(b, name)
}

func BenchmarkParseManifest(b *testing.B) {
	raw := benchFixture(b, "docker-manifest-v2-nginx-1.23.1-linux-amd64.json")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := image.ParseManifest("", raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIndex(b *testing.B) {
	raw := benchFixture(b, "docker-manifest-list-multiarch-arm-variants.json")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := image.ParseIndex("", raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectMediaType(b *testing.B) {
	raw := benchFixture(b, "docker-manifest-list-multiarch-arm-variants.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := image.DetectMediaType(raw); err != nil {
			b.Fatal(err)
		}
	}
}
