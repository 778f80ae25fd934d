package ocilayout_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry/ocilayout"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newImage builds an image with n layers of random content.
func newImage(t testing.TB, n int, opts *image.Options) *image.Image {
	t.Helper()
	var contents [][]byte
	for i := range n {
		contents = append(contents, []byte("layer "+string(rune('a'+i))+" "+randomHex(16)))
	}
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "", ocispec.MediaTypeImageLayer,
		contents, map[string]string{"nonce": randomHex(8)}, opts)
	if err != nil {
		t.Fatalf("image.New = %v", err)
	}
	return img
}

// push pushes img to repo of s under tags (by digest when there are none).
func push(t testing.TB, s *ocilayout.Store, repo string, img *image.Image, tags ...string) ocispec.Descriptor {
	t.Helper()
	desc, err := pushErr(t.Context(), s, repo, img, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// pushErr is push for goroutines other than the test's.
func pushErr(ctx context.Context, s *ocilayout.Store, repo string, img *image.Image, tags ...string) (ocispec.Descriptor, error) {
	for _, b := range img.Blobs() {
		rc, err := b.Open(ctx)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		err = s.PutBlob(ctx, repo, b.Descriptor(), rc)
		rc.Close()
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("PutBlob(%s, %s) = %w", repo, b.Descriptor().Digest, err)
		}
	}
	refs := tags
	if len(refs) == 0 {
		refs = []string{img.Descriptor().Digest.String()}
	}
	var desc ocispec.Descriptor
	for _, ref := range refs {
		var err error
		desc, err = s.PutManifest(ctx, repo, ref, img.Descriptor().MediaType, img.Raw(), nil)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("PutManifest(%s, %s) = %w", repo, ref, err)
		}
	}
	return desc, nil
}

// putBytes stores p as a blob of repo and returns its descriptor.
func putBytes(t testing.TB, s *ocilayout.Store, repo string, p []byte) ocispec.Descriptor {
	t.Helper()
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(p), Size: int64(len(p))}
	if err := s.PutBlob(t.Context(), repo, desc, bytes.NewReader(p)); err != nil {
		t.Fatalf("PutBlob(%s) = %v", repo, err)
	}
	return desc
}

// checkErr fails the test unless err matches want (nil: no error).
func checkErr(t testing.TB, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s = %v, want no error", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s = %v, want %v", what, err, want)
	}
}

// files returns the paths, relative to dir and slash-separated, of the
// regular files under dir, sorted, but for the lock files of .regkit-lock.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".regkit-lock" {
			return filepath.SkipDir // the lock files of writers, no layout's content
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// tempFiles returns what is left of temporary files under dir: the
// .regkit-tmp directories, which are removed once empty, and their files.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(filepath.ToSlash(p), "/.regkit-tmp") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readIndex reads the index.json of repo in dir.
func readIndex(t testing.TB, dir, repo string) ocispec.Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(repo), "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ix ocispec.Index
	if err := json.Unmarshal(b, &ix); err != nil {
		t.Fatalf("index.json of %s: %v", repo, err)
	}
	return ix
}

// entries returns the index.json entries of repo as "digest tag" strings
// ("digest -" when untagged), in index order.
func entries(t testing.TB, dir, repo string) []string {
	t.Helper()
	var out []string
	for _, e := range readIndex(t, dir, repo).Manifests {
		name, ok := e.Annotations[ocispec.AnnotationRefName]
		if !ok {
			name = "-"
		}
		out = append(out, string(e.Digest)+" "+name)
	}
	return out
}

// writeBlob writes p as a blob file of the layout at dir/repo.
func writeBlob(t testing.TB, dir, repo string, p []byte) digest.Digest {
	t.Helper()
	d := digest.FromBytes(p)
	ocilayout.WriteFile(t, dir, repo+"/blobs/sha256/"+d.Encoded(), p)
	return d
}

// writeLayout writes a layout at dir/repo the way other tools do: blob files
// for every blob of imgs and of ix, and an index.json that lists only
// entries.
func writeLayout(t testing.TB, dir, repo string, imgs []*image.Image, raw [][]byte, entries ...ocispec.Descriptor) {
	t.Helper()
	for _, img := range imgs {
		for _, b := range img.Blobs() {
			rc, err := b.Open(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(rc)
			rc.Close()
			writeBlob(t, dir, repo, buf.Bytes())
		}
		writeBlob(t, dir, repo, img.Raw())
	}
	for _, r := range raw {
		writeBlob(t, dir, repo, r)
	}
	ocilayout.WriteFile(t, dir, repo+"/oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	ix, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: entries})
	if err != nil {
		t.Fatal(err)
	}
	ocilayout.WriteFile(t, dir, repo+"/index.json", ix)
}

// tagged returns desc annotated with ref.name tag.
func tagged(desc ocispec.Descriptor, tag string) ocispec.Descriptor {
	desc.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	return desc
}

// mustJSON marshals v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
