package ocilayout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/transport"
)

// The benchmarks of this file measure the catalog: listing every one of n
// repositories, in pages of 100 and in one page. Run them with -benchmem.

// reposLayout makes, under dir, a layout for each of names as another
// tool would: an oci-layout file, an index.json and an empty blobs/sha256
// directory.
func reposLayout(tb testing.TB, dir string, names []string) {
	tb.Helper()
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Join(p, "blobs", "sha256"), 0o755); err != nil {
			tb.Fatal(err)
		}
		for file, data := range map[string]string{
			ociLayoutFile: `{"imageLayoutVersion":"1.0.0"}`,
			indexFile:     `{"schemaVersion":2,"manifests":[]}`,
		} {
			if err := os.WriteFile(filepath.Join(p, file), []byte(data), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// nestedNames returns n names of two levels, 100 to a team:
// team00/app0000, ….
func nestedNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("team%02d/app%04d", i/100, i%100)
	}
	return names
}

// flatNames returns n names of one level: app00000, ….
func flatNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("app%05d", i)
	}
	return names
}

// listAllPaged lists every repository of s in pages of size, returning
// how many there are.
func listAllPaged(ctx context.Context, tb testing.TB, s *Store, size int) int {
	var req transport.PageRequest
	req.N = size
	count := 0
	for {
		page, err := s.ListRepositories(ctx, req)
		if err != nil {
			tb.Fatal(err)
		}
		count += len(page.Items)
		if page.Next == "" {
			return count
		}
		req.Next = page.Next
	}
}

// BenchmarkListRepositories lists all n repositories of a directory, in
// pages of 100 and in one page (size 0), nested two levels deep (100 to a
// directory) and flat (n in the Store's directory).
func BenchmarkListRepositories(b *testing.B) {
	for _, shape := range []struct {
		name  string
		names func(int) []string
	}{{"nested", nestedNames}, {"flat", flatNames}} {
		for _, n := range []int{100, 1000, 10000} {
			for _, size := range []int{100, 0} {
				b.Run(fmt.Sprintf("%s/repos=%d/page=%d", shape.name, n, size), func(b *testing.B) {
					dir := b.TempDir()
					reposLayout(b, dir, shape.names(n))
					s, err := NewStore(dir)
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if got := listAllPaged(ctx, b, s, size); got != n {
							b.Fatalf("listed %d repositories, want %d", got, n)
						}
					}
				})
			}
		}
	}
}
