package ocilayout

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/regkit/regkit/transport"
)

// costNames returns n names three levels deep, n a multiple of 1,000: 10
// directories in the Store's directory, n/1,000 in each, 100 layouts in
// each of those, so that only the middle level grows with n.
func costNames(n int) []string {
	names := make([]string, n)
	perTop := n / 10
	for i := range names {
		j := i % perTop
		names[i] = fmt.Sprintf("r%d/m%03d/app%02d", i/perTop, j/100, j%100)
	}
	return names
}

// TestListRepositoriesPageCost checks that one page of 100 repositories,
// from the middle of the catalog, allocates no more among 10,000
// repositories than among 1,000 when the directories it reads are no
// bigger: a page costs the page, not the catalog.
func TestListRepositoriesPageCost(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 11,000 layouts")
	}
	allocs := map[int]float64{}
	for _, n := range []int{1000, 10000} {
		dir := t.TempDir()
		names := costNames(n)
		for _, name := range names { // lighter than reposLayout: 11,000 of them
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Join(p, blobsDir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, ociLayoutFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := NewStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := t.Context()
		req := transport.PageRequest{N: 100, Last: names[n/2]}
		want := names[n/2+1 : n/2+101]
		page, err := s.ListRepositories(ctx, req)
		if err != nil || fmt.Sprint(page.Items) != fmt.Sprint(want) || page.Next != want[99] {
			t.Fatalf("ListRepositories(%+v) among %d = %q next %q, %v; want %q", req, n, page.Items, page.Next, err, want)
		}
		allocs[n] = testing.AllocsPerRun(3, func() {
			if _, err := s.ListRepositories(ctx, req); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Logf("allocations for a page of 100: %.0f among 1,000 repositories, %.0f among 10,000", allocs[1000], allocs[10000])
	if allocs[10000] > allocs[1000]*1.2 {
		t.Errorf("a page of 100 allocates %.0f times among 10,000 repositories and %.0f among 1,000; want about the same", allocs[10000], allocs[1000])
	}
}
