package ocilayout_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// openRepository opens the layout dir as a repository, closed when the test
// ends.
func openRepository(t *testing.T, dir string) *ocilayout.Repository {
	t.Helper()
	repo, err := ocilayout.OpenRepository(dir)
	if err != nil {
		t.Fatalf("OpenRepository(%s) = %v", dir, err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// tagList lists the tags of repo.
func tagList(t *testing.T, repo *ocilayout.Repository) []string {
	t.Helper()
	var out []string
	for tag, err := range repo.Tags(t.Context(), nil) {
		if err != nil {
			t.Fatalf("Tags = %v", err)
		}
		out = append(out, tag)
	}
	return out
}

// readBlobs reads every blob of img through its Open, which verifies it.
func readBlobs(t *testing.T, img *image.Image) {
	t.Helper()
	for _, b := range img.Blobs() {
		rc, err := b.Open(t.Context())
		if err != nil {
			t.Fatalf("open blob %s: %v", b.Descriptor().Digest, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != b.Descriptor().Size {
			t.Fatalf("blob %s: %d bytes, %v; want %d", b.Descriptor().Digest, n, err, b.Descriptor().Size)
		}
	}
}

// TestOpenRepository opens, as one repository, a layout that the directory
// of layouts wrote: it resolves, pulls, pushes a new tag and lists tags,
// and the directory of layouts sees the new tag.
func TestOpenRepository(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	parent := t.TempDir()
	reg, err := ocilayout.New(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	v1 := newImage(t, 2, nil)
	if _, err := reg.Repository("app").Push(ctx, v1, "1.0", "latest"); err != nil {
		t.Fatal(err)
	}

	repo := openRepository(t, filepath.Join(parent, "app"))
	if repo.Name() != "app" {
		t.Errorf("Name = %q, want app", repo.Name())
	}
	desc, err := repo.Resolve(ctx, "1.0")
	if err != nil || desc.Digest != v1.Descriptor().Digest || desc.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("Resolve(1.0) = %+v, %v; want %s", desc, err, v1.Descriptor().Digest)
	}
	got, err := repo.Tag("latest").Image(ctx)
	if err != nil || got.Descriptor().Digest != v1.Descriptor().Digest {
		t.Fatalf("Tag(latest).Image = %v; want %s", err, v1.Descriptor().Digest)
	}
	readBlobs(t, got)

	v2 := newImage(t, 1, nil)
	if _, err := repo.Push(ctx, v2, "2.0"); err != nil {
		t.Fatalf("Push(2.0) = %v", err)
	}
	if tags := tagList(t, repo); !slices.Equal(tags, []string{"1.0", "2.0", "latest"}) {
		t.Errorf("Tags = %v, want [1.0 2.0 latest]", tags)
	}
	if d, err := reg.Repository("app").Resolve(ctx, "2.0"); err != nil || d.Digest != v2.Descriptor().Digest {
		t.Errorf("directory of layouts: Resolve(app:2.0) = %s, %v; want %s", d.Digest, err, v2.Descriptor().Digest)
	}
	if _, err := repo.Tag("latest").Delete(ctx); err != nil {
		t.Fatalf("Tag(latest).Delete = %v", err)
	}
	if _, err := repo.Resolve(ctx, "latest"); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("Resolve(deleted latest) = %v, want ErrManifestUnknown", err)
	}
	// The layout is the Store's directory itself: no nested layout appears.
	for _, p := range []string{"app", ".regkit-tmp"} {
		if _, err := os.Stat(filepath.Join(parent, "app", p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s in the layout: %v, want none", p, err)
		}
	}
}

// TestOpenRepositoryForeign opens a layout written as other tools write
// one, at the top of the directory: tags by short ref.name and by full
// reference, an untagged entry and an entry with other annotations, all of
// which a push keeps.
func TestOpenRepositoryForeign(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "oci")
	a, b, c := newImage(t, 1, nil), newImage(t, 1, nil), newImage(t, 1, nil)
	annotated := c.Descriptor()
	annotated.Annotations = map[string]string{"org.example.note": "kept"}
	writeLayout(t, dir, ".", []*image.Image{a, b, c}, nil,
		tagged(a.Descriptor(), "1.0"),
		b.Descriptor(), // untagged
		tagged(b.Descriptor(), "docker.io/library/app:0.9"),
		annotated)
	before := entries(t, dir, ".")

	repo := openRepository(t, dir)
	if tags := tagList(t, repo); !slices.Equal(tags, []string{"0.9", "1.0"}) {
		t.Errorf("Tags = %v, want [0.9 1.0]", tags)
	}
	for tag, want := range map[string]*image.Image{"1.0": a, "0.9": b} {
		img, err := repo.Tag(tag).Image(ctx)
		if err != nil || img.Descriptor().Digest != want.Descriptor().Digest {
			t.Fatalf("Tag(%s).Image = %v, want %s", tag, err, want.Descriptor().Digest)
		}
		readBlobs(t, img)
	}
	d := newImage(t, 1, nil)
	if _, err := repo.Push(ctx, d, "2.0"); err != nil {
		t.Fatalf("Push(2.0) = %v", err)
	}
	after := entries(t, dir, ".")
	want := append(slices.Clone(before), string(d.Descriptor().Digest)+" 2.0")
	if !slices.Equal(after, want) {
		t.Errorf("index.json after push =\n%v\nwant\n%v", after, want)
	}
	var note string
	for _, e := range readIndex(t, dir, ".").Manifests {
		if e.Digest == c.Descriptor().Digest {
			note = e.Annotations["org.example.note"]
		}
	}
	if note != "kept" {
		t.Errorf("annotation of the untagged entry = %q, want kept", note)
	}
}

// TestOpenRepositoryNew checks that a missing or empty directory is a
// repository that does not exist until the first push makes it a layout.
func TestOpenRepositoryNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "build", "oci") }},
		{"empty", func(t *testing.T) string { return t.TempDir() }},
		{"a first write interrupted before oci-layout", func(t *testing.T) string {
			dir := t.TempDir()
			ocilayout.WriteFile(t, dir, "index.json", []byte(`{"schemaVersion":2,"manifests":[]}`))
			return dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dir := tc.dir(t)
			repo := openRepository(t, dir)
			before := files(t, dir)
			if tc.name != "a first write interrupted before oci-layout" && len(before) != 0 {
				t.Errorf("files after OpenRepository = %v, want none", before)
			}
			if _, err := repo.Resolve(ctx, "1.0"); !errors.Is(err, transport.ErrNotFound) {
				t.Errorf("Resolve before a push = %v, want ErrNotFound", err)
			}
			for _, err := range repo.Tags(ctx, nil) {
				if !errors.Is(err, transport.ErrNameUnknown) {
					t.Errorf("Tags before a push = %v, want ErrNameUnknown", err)
				}
			}
			if names := files(t, dir); !slices.Equal(names, before) {
				t.Errorf("files after reads = %v, want %v (reads write nothing)", names, before)
			}
			img := newImage(t, 1, nil)
			if _, err := repo.Push(ctx, img, "1.0"); err != nil {
				t.Fatalf("Push = %v", err)
			}
			for _, f := range []string{"oci-layout", "index.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s after push: %v", f, err)
				}
			}
			if e := entries(t, dir, "."); !slices.Equal(e, []string{string(img.Descriptor().Digest) + " 1.0"}) {
				t.Errorf("index.json = %v", e)
			}
		})
	}
}

// TestOpenRepositoryNotLayout checks that a directory that is no layout
// fails with ErrNotLayout and is left as it was, and a broken oci-layout
// with ErrInvalidLayout.
func TestOpenRepositoryNotLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string
		want  error
	}{
		{"other files", func(t *testing.T, dir string) string {
			ocilayout.WriteFile(t, dir, "README.md", []byte("hello"))
			ocilayout.WriteFile(t, dir, "blobs/sha256/x", []byte("x"))
			return dir
		}, ocilayout.ErrNotLayout},
		{"directory of layouts", func(t *testing.T, dir string) string {
			s, err := ocilayout.NewStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			push(t, s, "app", newImage(t, 1, nil), "1.0")
			s.Close()
			return dir
		}, ocilayout.ErrNotLayout},
		{"an index.json with manifests and no oci-layout", func(t *testing.T, dir string) string {
			ocilayout.WriteFile(t, dir, "index.json", []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+strings.Repeat("a", 64)+`","size":2}]}`))
			return dir
		}, ocilayout.ErrNotLayout},
		{"an index.json that is no index", func(t *testing.T, dir string) string {
			ocilayout.WriteFile(t, dir, "index.json", []byte(`{"hello": "world"`))
			return dir
		}, ocilayout.ErrNotLayout},
		{"a file", func(t *testing.T, dir string) string {
			ocilayout.WriteFile(t, dir, "file", []byte("x"))
			return filepath.Join(dir, "file")
		}, ocilayout.ErrNotLayout},
		{"malformed oci-layout", func(t *testing.T, dir string) string {
			ocilayout.WriteFile(t, dir, "oci-layout", []byte("{"))
			return dir
		}, ocilayout.ErrInvalidLayout},
		{"unsupported version", func(t *testing.T, dir string) string {
			ocilayout.WriteFile(t, dir, "oci-layout", []byte(`{"imageLayoutVersion":"2.0.0"}`))
			return dir
		}, ocilayout.ErrInvalidLayout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := tc.setup(t, root)
			before := files(t, root)
			repo, err := ocilayout.OpenRepository(dir)
			if err == nil {
				repo.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("OpenRepository = %v, want %v", err, tc.want)
			}
			if after := files(t, root); !slices.Equal(after, before) {
				t.Errorf("files after = %v, want %v (untouched)", after, before)
			}
		})
	}
}

// TestOpenRepositoryName checks the name of the repository of a layout.
func TestOpenRepositoryName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, want string }{
		{"oci", "oci"},
		{"my-app_1.0", "my-app_1.0"},
		{"My App", ocilayout.DefaultRepositoryName},
		{"blobs", ocilayout.DefaultRepositoryName},
		{".hidden", ocilayout.DefaultRepositoryName},
	} {
		repo := openRepository(t, filepath.Join(t.TempDir(), tc.base))
		if repo.Name() != tc.want {
			t.Errorf("OpenRepository(…/%s).Name() = %q, want %q", tc.base, repo.Name(), tc.want)
		}
	}
}

// TestOpenRepositoryStore checks that the Store of one layout knows its one
// repository and no other.
func TestOpenRepositoryStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	repo := openRepository(t, filepath.Join(t.TempDir(), "app"))
	s := repo.Store
	page, err := s.ListRepositories(ctx, transport.PageRequest{})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("ListRepositories before a push = %v, %v; want none", page.Items, err)
	}
	img := newImage(t, 1, nil)
	push(t, s, "app", img, "1.0")
	page, err = s.ListRepositories(ctx, transport.PageRequest{})
	if err != nil || !slices.Equal(page.Items, []string{"app"}) {
		t.Errorf("ListRepositories = %v, %v; want [app]", page.Items, err)
	}
	layer := img.Layers()[0].Descriptor().Digest
	checkErr(t, "HeadManifest(other)", func() error { _, err := s.HeadManifest(ctx, "other", "1.0"); return err }(), transport.ErrNameUnknown)
	checkErr(t, "PutBlob(other)", s.PutBlob(ctx, "other", img.Config().Descriptor(), nil), transport.ErrNameUnknown)
	checkErr(t, "MountBlob(from other)", s.MountBlob(ctx, "app", "other", layer), transport.ErrBlobUnknown)
	checkErr(t, "MountBlob(into other)", s.MountBlob(ctx, "other", "app", layer), transport.ErrNameUnknown)
	checkErr(t, "HeadManifest(invalid)", func() error { _, err := s.HeadManifest(ctx, "Bad", "1.0"); return err }(), transport.ErrNameInvalid)
	if err := s.MountBlob(ctx, "app", "app", layer); err != nil {
		t.Errorf("MountBlob(app from app) = %v", err)
	}
}
