package ocilayout_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// TestMalformedLayout checks that a broken layout is reported, with an
// error matching ErrInvalidLayout, by every call that reads what is broken.
func TestMalformedLayout(t *testing.T) {
	t.Parallel()
	img := newImage(t, 1, nil)
	desc := img.Descriptor()
	wrongSize := desc
	wrongSize.Size++
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		// refs are read with GetManifest and must fail.
		refs []string
		// head: HeadManifest of refs[0] fails too, though it reads less.
		head bool
		// tags, referrers: ListTags, ListReferrers fail too.
		tags, referrers bool
	}{
		{
			name:   "index.json not JSON",
			break_: func(t *testing.T, dir string) { ocilayout.WriteFile(t, dir, "app/index.json", []byte("{not json")) },
			refs:   []string{"1.0", desc.Digest.String()}, head: true, tags: true, referrers: true,
		},
		{
			name: "index.json of schema 1",
			break_: func(t *testing.T, dir string) {
				ocilayout.WriteFile(t, dir, "app/index.json", []byte(`{"schemaVersion":1,"manifests":[]}`))
			},
			refs: []string{"1.0"}, head: true, tags: true, referrers: true,
		},
		{
			name: "index.json entry with a bad digest",
			break_: func(t *testing.T, dir string) {
				ocilayout.WriteFile(t, dir, "app/index.json", []byte(`{"schemaVersion":2,"manifests":[{"digest":"sha256:../../x","size":1}]}`))
			},
			refs: []string{"1.0"}, head: true, tags: true, referrers: true,
		},
		{
			name: "index.json missing",
			break_: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "app", "index.json")); err != nil {
					t.Fatal(err)
				}
			},
			refs: []string{"1.0"}, head: true, tags: true, referrers: true,
		},
		{
			name:   "index.json a directory",
			break_: func(t *testing.T, dir string) { replaceWithDir(t, filepath.Join(dir, "app", "index.json")) },
			refs:   []string{"1.0"}, head: true, tags: true, referrers: true,
		},
		{
			name:   "oci-layout not JSON",
			break_: func(t *testing.T, dir string) { ocilayout.WriteFile(t, dir, "app/oci-layout", []byte("1.0.0")) },
			refs:   []string{"1.0"}, head: true, tags: true, referrers: true,
		},
		{
			name: "oci-layout of version 2",
			break_: func(t *testing.T, dir string) {
				ocilayout.WriteFile(t, dir, "app/oci-layout", []byte(`{"imageLayoutVersion":"2.0.0"}`))
			},
			refs: []string{"1.0"}, head: true, tags: true, referrers: true,
		},
		{
			name: "listed manifest missing",
			break_: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "app", "blobs", "sha256", desc.Digest.Encoded())); err != nil {
					t.Fatal(err)
				}
			},
			refs: []string{"1.0", desc.Digest.String()}, head: true, referrers: true,
		},
		{
			name: "listed manifest of another size",
			break_: func(t *testing.T, dir string) {
				writeLayout(t, dir, "app", []*image.Image{img}, nil, tagged(wrongSize, "1.0"))
			},
			refs: []string{"1.0", desc.Digest.String()}, head: true, referrers: true,
		},
		{
			name: "listed manifest corrupt",
			break_: func(t *testing.T, dir string) {
				raw := []byte(string(img.Raw()[:len(img.Raw())-1]) + " ")
				ocilayout.WriteFile(t, dir, "app/blobs/sha256/"+desc.Digest.Encoded(), raw)
			},
			refs: []string{desc.Digest.String()}, referrers: true,
		},
		{
			name: "listed manifest without media type, not a manifest",
			break_: func(t *testing.T, dir string) {
				junk := []byte(`{"hello":"world"}`)
				d := writeBlob(t, dir, "app", junk)
				writeLayout(t, dir, "app", []*image.Image{img}, nil,
					tagged(ocispec.Descriptor{Digest: d, Size: int64(len(junk))}, "1.0"))
			},
			refs: []string{"1.0"}, head: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := ocilayout.NewStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := t.Context()
			push(t, s, "app", img, "1.0")
			tc.break_(t, dir)
			for _, ref := range tc.refs {
				if _, _, err := s.GetManifest(ctx, "app", ref); !errors.Is(err, ocilayout.ErrInvalidLayout) {
					t.Errorf("GetManifest(%s) = %v, want ErrInvalidLayout", ref, err)
				}
			}
			if _, err := s.HeadManifest(ctx, "app", tc.refs[0]); tc.head != errors.Is(err, ocilayout.ErrInvalidLayout) {
				t.Errorf("HeadManifest(%s) = %v, want ErrInvalidLayout: %t", tc.refs[0], err, tc.head)
			}
			if _, err := s.ListTags(ctx, "app", transport.PageRequest{}); tc.tags != errors.Is(err, ocilayout.ErrInvalidLayout) {
				t.Errorf("ListTags = %v, want ErrInvalidLayout: %t", err, tc.tags)
			}
			_, err = s.ListReferrers(ctx, "app", desc.Digest, "", transport.PageRequest{})
			if tc.referrers != errors.Is(err, ocilayout.ErrInvalidLayout) {
				t.Errorf("ListReferrers = %v, want ErrInvalidLayout: %t", err, tc.referrers)
			}
		})
	}
}

// replaceWithDir replaces the file p with a directory.
func replaceWithDir(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestMalformedWrites checks that writes refuse to build on a broken layout.
func TestMalformedWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	img := newImage(t, 1, nil)
	push(t, s, "app", img, "1.0")
	ocilayout.WriteFile(t, dir, "app/index.json", []byte("{not json"))
	layer := img.Layers()[0].Descriptor().Digest
	calls := map[string]func() error{
		"PutManifest": func() error {
			_, err := s.PutManifest(ctx, "app", "2.0", "", img.Raw(), nil)
			return err
		},
		"DeleteManifest tag":    func() error { return s.DeleteManifest(ctx, "app", "1.0") },
		"DeleteManifest digest": func() error { return s.DeleteManifest(ctx, "app", img.Descriptor().Digest.String()) },
		"DeleteBlob":            func() error { return s.DeleteBlob(ctx, "app", layer) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ocilayout.ErrInvalidLayout) {
			t.Errorf("%s on a broken index.json = %v, want ErrInvalidLayout", name, err)
		}
	}
	ocilayout.WriteFile(t, dir, "bad/oci-layout", []byte("{"))
	if err := s.PutBlob(ctx, "bad", img.Layers()[0].Descriptor(), nil); !errors.Is(err, ocilayout.ErrInvalidLayout) {
		t.Errorf("PutBlob into a broken layout = %v, want ErrInvalidLayout", err)
	}
	if err := s.MountBlob(ctx, "app2", "bad", layer); !errors.Is(err, ocilayout.ErrInvalidLayout) {
		t.Errorf("MountBlob from a broken layout = %v, want ErrInvalidLayout", err)
	}
	_, err = s.PutManifest(ctx, "bad", digest.FromBytes(img.Raw()).String(), "", img.Raw(), nil)
	if !errors.Is(err, ocilayout.ErrInvalidLayout) {
		t.Errorf("PutManifest into a broken layout = %v, want ErrInvalidLayout", err)
	}
}
