package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// allRepos is the catalog as ListRepositories made it before it walked
// lazily: the whole tree walked, then sorted. The tests check the lazy walk
// against it.
func allRepos(fsys fs.FS) ([]string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." || !d.IsDir() {
			return nil
		}
		if checkRepo(p) != nil {
			return fs.SkipDir
		}
		if fi, err := fs.Stat(fsys, path.Join(p, ociLayoutFile)); err == nil && fi.Mode().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	slices.Sort(names)
	return names, err
}

// strs returns every string of up to max bytes of alphabet.
func strs(alphabet string, max int) []string {
	out := []string{""}
	last := []string{""}
	for range max {
		var next []string
		for _, s := range last {
			for _, c := range alphabet {
				next = append(next, s+string(c))
			}
		}
		out = append(out, next...)
		last = next
	}
	return out
}

// TestNamesBefore checks the rule that passes over an entry against every
// name the entry can give, over a small alphabet that has a byte before
// '/' ('-'), '/' itself and one after it ('a').
func TestNamesBefore(t *testing.T) {
	t.Parallel()
	const alphabet = "-/a"
	afters := strs(alphabet, 4)
	subs := strs(alphabet, 5)[1:] // longer than any after: "after+x" is in it
	for _, elem := range strs(alphabet, 2)[1:] {
		for _, after := range afters {
			want := elem <= after
			for _, x := range subs {
				if want && elem+"/"+x > after {
					want = false
				}
			}
			if got := namesBefore(after, elem); got != want {
				t.Errorf("namesBefore(%q, %q) = %v, want %v", after, elem, got, want)
			}
		}
	}
}

// makeTree makes under dir a layout (an oci-layout file and a blobs
// directory) at each of layouts and an empty directory at each of dirs.
func makeTree(t testing.TB, dir string, layouts, dirs []string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	reposLayout(t, dir, layouts)
}

// checkPaged checks that s lists want in one page, and in pages of each
// size, and after each cursor in cursors.
func checkPaged(t *testing.T, s *Store, want []string, cursors []string) {
	t.Helper()
	ctx := t.Context()
	page, err := s.ListRepositories(ctx, transport.PageRequest{})
	if err != nil || !slices.Equal(page.Items, want) || page.Next != "" {
		t.Fatalf("ListRepositories = %q next %q, %v; want %q", page.Items, page.Next, err, want)
	}
	for _, size := range []int{1, 2, 3, 100} {
		var got []string
		req := transport.PageRequest{N: size}
		for i := 0; ; i++ {
			page, err := s.ListRepositories(ctx, req)
			if err != nil {
				t.Fatalf("ListRepositories(%+v) = %v", req, err)
			}
			got = append(got, page.Items...)
			if page.Next == "" || i > len(want) {
				break
			}
			req.Next = page.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("in pages of %d: %q, want %q", size, got, want)
		}
	}
	for _, after := range cursors {
		for _, size := range []int{0, 1, 3} {
			req := transport.PageRequest{N: size, Last: after}
			wantPage := backend.Page(want, backend.Identity, req, 0)
			page, err := s.ListRepositories(ctx, req)
			if err != nil || !slices.Equal(page.Items, wantPage.Items) || page.Next != wantPage.Next {
				t.Errorf("ListRepositories(%+v) = %q next %q, %v; want %q next %q", req, page.Items, page.Next, err, wantPage.Items, wantPage.Next)
			}
		}
	}
}

// cursorsNear returns the names and, for each, its prefixes and the name
// followed by a byte before '/', '/' and one after it.
func cursorsNear(names []string) []string {
	out := []string{"", "-", "0", "zz"}
	for _, n := range names {
		out = append(out, n, n+"-", n+"/", n+"0", n+"/-", n+"/z")
		for i := 1; i < len(n); i++ {
			out = append(out, n[:i])
		}
	}
	return out
}

// TestListRepositoriesPaged lists tricky trees in pages of every size and
// after every cursor near their names, against the whole listing.
func TestListRepositoriesPaged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := []string{
		"a", "a--b", "a-b", "a.b", "a/b", "a/b-c", "a/b.c", "a/b/c", "a/b/c/d",
		"a/b0", "a/b_c", "a0", "a__b", "a_b", "ab", "b/c", "d/e/f", "x-y/z",
	}
	makeTree(t, dir, append(slices.Clone(want),
		".hidden", "a/.hidden/x", "a/blobs/sha256/x", "Upper/x", "e/f g/h", "blobs/x"),
		[]string{"c", "d/e/g", "a/b/c/empty", "x-y/q", "o/oci-layout"})
	writeFile(t, dir, "plainfile", nil)
	writeFile(t, dir, "x-y/q/file", nil)
	if err := os.Symlink("a", filepath.Join(dir, "l")); err != nil {
		t.Logf("no symbolic link: %v", err)
	}
	s, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ref, err := allRepos(s.root.FS())
	if err != nil || !slices.Equal(ref, want) {
		t.Fatalf("the whole walk lists %q, %v; want %q", ref, err, want)
	}
	checkPaged(t, s, want, cursorsNear(want))
}

// writeFile writes data at rel under dir, making its directories.
func writeFile(t testing.TB, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestListRepositoriesRandom lists random trees of names made of parts
// that sort around '/' against the whole walk.
func TestListRepositoriesRandom(t *testing.T) {
	t.Parallel()
	parts := []string{"a", "b", "a-b", "a.b", "a_b", "a0", "ab", "blobs", ".h", "a--b"}
	rng := rand.New(rand.NewPCG(17, 1))
	for round := range 20 {
		dir := t.TempDir()
		var layouts, dirs []string
		for range 25 {
			elems := make([]string, 1+rng.IntN(3))
			for i := range elems {
				elems[i] = parts[rng.IntN(len(parts))]
			}
			p := strings.Join(elems, "/")
			if rng.IntN(3) == 0 {
				dirs = append(dirs, p)
			} else {
				layouts = append(layouts, p)
			}
		}
		makeTree(t, dir, layouts, dirs)
		s, err := NewStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		want, err := allRepos(s.root.FS())
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			checkPaged(t, s, want, cursorsNear(want))
		})
		s.Close()
	}
}

// TestListRepositoriesCanceled checks that a done context stops the
// listing with its error.
func TestListRepositoriesCanceled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeTree(t, dir, []string{"a", "b"}, nil)
	s, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.ListRepositories(ctx, transport.PageRequest{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ListRepositories(canceled) = %v, want context.Canceled", err)
	}
}
