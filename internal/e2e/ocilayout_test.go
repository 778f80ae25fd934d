package e2e

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// writeLayout writes img as an OCI image layout in dir, tagged tag, the way
// `skopeo copy oci:` reads it.
func writeLayout(t *testing.T, dir string, img *image.Image, tag string) {
	t.Helper()
	put := func(d digest.Digest, r io.Reader) {
		p := filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range img.Blobs() {
		rc, err := b.Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		put(b.Descriptor().Digest, rc)
		rc.Close()
	}
	desc := img.Descriptor()
	put(desc.Digest, bytesReader(img.Raw()))
	desc.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	writeJSON(t, filepath.Join(dir, ocispec.ImageLayoutFile), ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	writeJSON(t, filepath.Join(dir, "index.json"), ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{desc},
	})
}

// readLayout returns the manifest tagged tag in the layout at dir, checking
// that every blob file hashes to its name.
func readLayout(t *testing.T, dir, tag string) (ocispec.Descriptor, ocispec.Manifest) {
	t.Helper()
	var idx ocispec.Index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	for _, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] != tag {
			continue
		}
		var m ocispec.Manifest
		raw := readBlobFile(t, dir, d.Digest)
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, b := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			if got := int64(len(readBlobFile(t, dir, b.Digest))); got != b.Size {
				t.Fatalf("layout blob %s has %d bytes, want %d", b.Digest, got, b.Size)
			}
		}
		return d, m
	}
	t.Fatalf("layout %s has no manifest tagged %q", dir, tag)
	return ocispec.Descriptor{}, ocispec.Manifest{}
}

func readBlobFile(t *testing.T, dir string, d digest.Digest) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Algorithm().FromBytes(b); got != d {
		t.Fatalf("layout blob %s hashes to %s", d, got)
	}
	return b
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
