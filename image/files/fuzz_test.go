package files_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
)

// FuzzWalk reads two plain tar layers (lower, upper) as an image and checks
// what holds for any input: names come out clean and inside the root, no
// whiteout is reported, Flatten writes what Walk reports, and ReadFile
// returns the content Walk reports last for a regular file.
func FuzzWalk(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, lower, upper []byte) {
		img := imageOfBlobs(t, nil,
			image.BytesBlob(ocispec.MediaTypeImageLayer, lower),
			image.BytesBlob(ocispec.MediaTypeImageLayer, upper))
		ctx := context.Background()
		opts := []files.Option{files.WithMaxEntries(1000), files.WithMaxLayerSize(1 << 20), files.WithMaxFileSize(1 << 20)}

		var names []string
		last := map[string]*tar.Header{}
		content := map[string]string{}
		walkErr := files.Walk(ctx, img, func(hdr *tar.Header, r io.Reader) error {
			n := hdr.Name
			if n == "." || n == "" || strings.HasPrefix(n, "/") || n != path.Clean(n) || n == ".." || strings.HasPrefix(n, "../") {
				t.Fatalf("unclean name %q", n)
			}
			if strings.HasPrefix(path.Base(n), ".wh.") {
				t.Fatalf("whiteout reported: %q", n)
			}
			body, err := io.ReadAll(r) // bounded by WithMaxLayerSize
			if err != nil {
				return err
			}
			names = append(names, n)
			last[n] = hdr
			content[n] = string(body)
			return nil
		}, opts...)

		var buf bytes.Buffer
		flatErr := files.Flatten(ctx, img, &buf, opts...)
		if (walkErr == nil) != (flatErr == nil) {
			t.Fatalf("Walk: %v; Flatten: %v", walkErr, flatErr)
		}
		if walkErr != nil {
			return
		}
		var flat []string
		tr := tar.NewReader(&buf)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Flatten wrote a bad tar: %v", err)
			}
			flat = append(flat, strings.TrimSuffix(hdr.Name, "/"))
		}
		if strings.Join(flat, "\n") != strings.Join(names, "\n") {
			t.Fatalf("Flatten wrote %q, Walk reported %q", flat, names)
		}
		for n, hdr := range last {
			if hdr.Typeflag != tar.TypeReg || throughLink(n, last) {
				continue
			}
			got, err := files.ReadFile(ctx, img, n, opts...)
			if err != nil {
				t.Fatalf("ReadFile(%q): %v", n, err)
			}
			if string(got) != content[n] {
				t.Fatalf("ReadFile(%q) = %q, Walk reported %q", n, got, content[n])
			}
		}
	})
}

// throughLink reports whether a directory of n is reported as a symbolic
// link, which ReadFile follows and Walk does not.
func throughLink(n string, last map[string]*tar.Header) bool {
	for d := path.Dir(n); d != "."; d = path.Dir(d) {
		if h := last[d]; h != nil && h.Typeflag != tar.TypeDir {
			return true
		}
	}
	return false
}

// fuzzSeeds are layer pairs (lower, upper) that exercise the whiteout
// rules; testdata/fuzz/FuzzWalk holds the same and odder ones.
func fuzzSeeds(tb testing.TB) [][2][]byte {
	return [][2][]byte{
		{tarOf(tb, dir("a"), file("a/x", "1"), file("b", "2")), tarOf(tb, wh("a/.wh.x"), file("c", "3"))},
		{tarOf(tb, dir("a"), file("a/x", "1")), tarOf(tb, wh("a/.wh..wh..opq"), file("a/y", "2"))},
		{tarOf(tb, file("a", "1"), file("a", "2")), tarOf(tb, wh(".wh.a"), file("a", "3"))},
		{tarOf(tb, symlink("lib", "usr/lib"), file("usr/lib/x", "1")), tarOf(tb, hardlink("h", "usr/lib/x"))},
		{tarOf(tb, file("../x", "1")), tarOf(tb, file("/abs", "2"))},
		{tarOf(tb, file("d", "f")), tarOf(tb, file("d/x", "1"), wh(".wh..wh..opq"))},
	}
}
