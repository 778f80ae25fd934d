package ocilayout

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The benchmarks of this file measure what one call costs in a repository
// of n tags, each naming a manifest of its own: a tag resolve (a HEAD), a
// push of one new tag, and, as the floor a push cannot go under, one write
// of that repository's index.json alone (marshal, write, fsync, rename, as
// the Store does it). Run them with -benchmem.

// benchRepo is the repository of the layouts benchLayout makes.
const benchRepo = "bench"

// benchManifest returns manifest i of benchLayout: an image manifest with
// the empty config and no layer, made distinct by an annotation.
func benchManifest(i int) []byte {
	b, _ := json.Marshal(ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      ocispec.DescriptorEmptyJSON,
		Layers:      []ocispec.Descriptor{},
		Annotations: map[string]string{"n": fmt.Sprint(i)},
	})
	return b
}

// benchTag returns tag i of benchLayout.
// benchWriter returns a function that writes a file of repository
// benchRepo under dir, making its directories.
func benchWriter(tb testing.TB, dir string) func(rel string, data []byte) {
	return func(rel string, data []byte) {
		p := filepath.Join(dir, benchRepo, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func benchTag(i int) string { return fmt.Sprintf("t%06d", i) }

// benchLayout makes, in a new directory, repository benchRepo with n tags
// benchTag(0..n-1), tag i naming benchManifest(i), writing the files
// directly (pushing them one by one would take too long).
func benchLayout(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	write := benchWriter(tb, dir)
	blob := func(data []byte) digest.Digest {
		d := digest.FromBytes(data)
		write("blobs/sha256/"+d.Encoded(), data)
		return d
	}
	blob(ocispec.DescriptorEmptyJSON.Data)
	ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for i := range n {
		m := benchManifest(i)
		ix.Manifests = append(ix.Manifests, ocispec.Descriptor{
			MediaType:   ocispec.MediaTypeImageManifest,
			Digest:      blob(m),
			Size:        int64(len(m)),
			Annotations: map[string]string{ocispec.AnnotationRefName: benchTag(i)},
		})
	}
	b, _ := json.Marshal(ix)
	write(indexFile, b)
	write(ociLayoutFile, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return dir
}

// benchDirs keeps the layouts of the benchmarks of a run, one per kind
// and size: each benchmark leaves its layout as it found it.
var benchDirs = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// sharedStore returns a Store over the layout that mk makes, made once per
// key and run, in a directory TestMain removes.
func sharedStore(b *testing.B, key string, mk func(testing.TB) string) *Store {
	benchDirs.Lock()
	dir, ok := benchDirs.m[key]
	if !ok {
		d, err := os.MkdirTemp("", "regkit-bench-")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(mk(b), filepath.Join(d, "l")); err != nil {
			b.Fatal(err)
		}
		dir = filepath.Join(d, "l")
		benchDirs.m[key] = dir
	}
	benchDirs.Unlock()
	s, err := NewStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchStore returns a Store over a layout of n tags, shared by the
// benchmarks of this run.
func benchStore(b *testing.B, n int) *Store {
	return sharedStore(b, fmt.Sprint("tags/", n), func(tb testing.TB) string { return benchLayout(tb, n) })
}

// TestMain removes the layouts of the benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range benchDirs.m {
		os.RemoveAll(filepath.Dir(dir))
	}
	os.Exit(code)
}

var benchSizes = []int{10, 100, 1000, 10000}

// BenchmarkResolve resolves one tag of a repository of n tags.
func BenchmarkResolve(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			s := benchStore(b, n)
			ctx := context.Background()
			tag := benchTag(n / 2)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.HeadManifest(ctx, benchRepo, tag); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPush pushes one new tag, naming a manifest the repository has,
// into a repository of n tags; the tag is deleted again, off the clock.
func BenchmarkPush(b *testing.B) {
	for _, n := range benchSizes[1:] {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			s := benchStore(b, n)
			ctx := context.Background()
			body := benchManifest(0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.PutManifest(ctx, benchRepo, "new", ocispec.MediaTypeImageManifest, body, nil); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if _, err := s.DeleteTag(ctx, benchRepo, "new"); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkWriteIndex writes the index.json of a repository of n tags
// alone, as a push does once: the limit of BenchmarkPush.
func BenchmarkWriteIndex(b *testing.B) {
	for _, n := range benchSizes[1:] {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			s := benchStore(b, n)
			write := benchIndexWriter(b, s)
			b.ReportAllocs()
			for b.Loop() {
				if err := write(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
