package ocilayout_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

func TestNew(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "does", "not", "exist")
	reg, err := ocilayout.New(dir)
	if err != nil {
		t.Fatalf("New(%s) = %v", dir, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("New did not create %s: %v", dir, err)
	}
	if reg.Store.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", reg.Store.Dir(), dir)
	}
	img := newImage(t, 1, nil)
	if _, err := reg.Repository("myapp1").Push(t.Context(), img, "3.0"); err != nil {
		t.Fatalf("Push = %v", err)
	}
	if got := files(t, dir); !slices.Contains(got, "myapp1/oci-layout") || !slices.Contains(got, "myapp1/index.json") {
		t.Errorf("files after push = %v, want a layout in myapp1", got)
	}
	if err := reg.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := reg.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := reg.Store.HeadManifest(t.Context(), "myapp1", "3.0"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("HeadManifest after Close = %v, want os.ErrClosed", err)
	}
	if _, err := reg.Store.StartUpload(t.Context(), "myapp1"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("StartUpload after Close = %v, want os.ErrClosed", err)
	}

	// Reopened, the directory holds the image.
	again, err := ocilayout.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got, err := again.Repository("myapp1").Tag("3.0").Image(t.Context())
	if err != nil || got.Descriptor().Digest != img.Descriptor().Digest {
		t.Fatalf("reopened Tag(3.0).Image() = %v, want %s", err, img.Descriptor().Digest)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "sub")} {
		if _, err := ocilayout.New(dir); err == nil {
			t.Errorf("New(%q) succeeded, want an error", dir)
		}
	}
}

// TestRepositoryNames checks that no name reaches outside the directory or
// into the entries of a layout: every call refuses it with NAME_INVALID and
// nothing is written, in the directory or next to it.
func TestRepositoryNames(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	content := []byte("blob")
	desc := ocispec.Descriptor{Digest: digest.FromBytes(content), Size: int64(len(content))}
	calls := map[string]func(name string) error{
		"PutBlob": func(name string) error { return s.PutBlob(ctx, name, desc, bytes.NewReader(content)) },
		"PutManifest": func(name string) error {
			_, err := s.PutManifest(ctx, name, "1.0", "", []byte(`{"schemaVersion":2}`), nil)
			return err
		},
		"GetManifest": func(name string) error { _, _, err := s.GetManifest(ctx, name, "1.0"); return err },
		"StatBlob":    func(name string) error { _, err := s.StatBlob(ctx, name, desc.Digest); return err },
		"StartUpload": func(name string) error { _, err := s.StartUpload(ctx, name); return err },
		"ListTags":    func(name string) error { _, err := s.ListTags(ctx, name, transport.PageRequest{}); return err },
		"MountBlob to": func(name string) error {
			return s.MountBlob(ctx, name, "ok", desc.Digest)
		},
		"MountBlob from": func(name string) error { return s.MountBlob(ctx, "ok", name, desc.Digest) },
		"DeleteTag":      func(name string) error { _, err := s.DeleteTag(ctx, name, "1.0"); return err },
	}
	tests := []struct {
		name string
		repo string
	}{
		{name: "parent", repo: ".."},
		{name: "up and out", repo: "../outside"},
		{name: "up in the middle", repo: "a/../../outside"},
		{name: "dot", repo: "a/./b"},
		{name: "absolute", repo: "/tmp/x"},
		{name: "empty", repo: ""},
		{name: "empty component", repo: "a//b"},
		{name: "trailing slash", repo: "a/"},
		{name: "backslash", repo: `a\..\b`},
		{name: "upper case", repo: "MyApp"},
		{name: "hidden", repo: ".regkit-tmp"},
		{name: "blobs at the top", repo: "blobs"},
		{name: "blobs of a layout", repo: "app/blobs"},
		{name: "blob algorithm dir", repo: "app/blobs/sha256"},
		{name: "index.json", repo: "app/index.json"},
		{name: "oci-layout", repo: "app/oci-layout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for call, run := range calls {
				if err := run(tc.repo); !errors.Is(err, transport.ErrNameInvalid) {
					t.Errorf("%s(%q) = %v, want ErrNameInvalid", call, tc.repo, err)
				}
			}
		})
	}
	entries, err := os.ReadDir(parent)
	if err != nil || len(entries) != 1 {
		t.Errorf("next to the store: %v, %v; want only the store", entries, err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("files in the store after bad names: %v", got)
	}
}

// TestSymlinks checks that symbolic links are followed only within the
// directory.
func TestSymlinks(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	img := newImage(t, 1, nil)
	writeLayout(t, outside, "app", []*image.Image{img}, nil, tagged(img.Descriptor(), "1.0"))
	secret := []byte("secret outside the store")
	secretDigest := writeBlob(t, outside, "app", secret)

	dir := t.TempDir()
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	inside := putBytes(t, s, "inside", []byte("a blob inside"))
	if err := os.Symlink(filepath.Join(outside, "app"), filepath.Join(dir, "escape")); err != nil {
		t.Skipf("cannot make symbolic links: %v", err)
	}
	if _, _, err := s.GetManifest(ctx, "escape", "1.0"); err == nil {
		t.Error("GetManifest through a link out of the directory succeeded")
	}
	// A blob file that links out of the directory, absolutely or not.
	blobs := filepath.Join(dir, "inside", "blobs", "sha256")
	if err := os.Symlink(filepath.Join(outside, "app", "blobs", "sha256", secretDigest.Encoded()), filepath.Join(blobs, secretDigest.Encoded())); err != nil {
		t.Fatal(err)
	}
	if rc, _, err := s.GetBlob(ctx, "inside", secretDigest); err == nil {
		got, _ := io.ReadAll(rc)
		rc.Close()
		t.Errorf("GetBlob through an absolute link out of the directory = %q", got)
	}
	rel, _ := filepath.Rel(blobs, filepath.Join(outside, "app", "blobs", "sha256", img.Config().Descriptor().Digest.Encoded()))
	if err := os.Symlink(rel, filepath.Join(blobs, img.Config().Descriptor().Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StatBlob(ctx, "inside", img.Config().Descriptor().Digest); err == nil {
		t.Error("StatBlob through a relative link out of the directory succeeded")
	}
	// A link that stays inside is followed.
	linkedRepo := filepath.Join(dir, "other")
	if err := os.Symlink("inside", linkedRepo); err != nil {
		t.Fatal(err)
	}
	if got, err := s.StatBlob(ctx, "other", inside.Digest); err != nil || got.Size != inside.Size {
		t.Errorf("StatBlob through a link inside the directory = %+v, %v", got, err)
	}
	page, err := s.ListRepositories(ctx, transport.PageRequest{})
	if err != nil || !slices.Equal(page.Items, []string{"inside"}) {
		t.Errorf("ListRepositories = %v, %v; want [inside] (links are not walked)", page.Items, err)
	}
}
