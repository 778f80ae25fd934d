package image_test

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

func TestNewDiffIDCount(t *testing.T) {
	t.Parallel()
	layers, twoIDs := withLayers(ocispec.MediaTypeImageLayerGzip, "a", "b")
	dockerLayers, _ := withLayers(image.MediaTypeDockerLayer, "a", "b")
	tests := []struct {
		name       string
		config     image.Blob
		layers     []image.Blob
		opts       *image.Options
		wantCounts []int // diff_ids, layers; nil means no error
	}{
		{name: "in step", config: image.BytesBlob(ocispec.MediaTypeImageConfig, twoIDs), layers: layers},
		{name: "no diff_ids", config: image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{"rootfs":{"type":"layers","diff_ids":[]}}`)), layers: layers, wantCounts: []int{0, 2}},
		{name: "no rootfs", config: image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{}`)), layers: layers[:1], wantCounts: []int{0, 1}},
		{name: "more diff_ids", config: image.BytesBlob(ocispec.MediaTypeImageConfig, twoIDs), layers: layers[:1], wantCounts: []int{2, 1}},
		{name: "docker config", config: image.BytesBlob(image.MediaTypeDockerConfig, []byte(`{}`)), layers: dockerLayers, opts: &image.Options{MediaType: image.MediaTypeDockerManifest}, wantCounts: []int{0, 2}},
		{name: "docker manifest, octet-stream config", config: image.BytesBlob("application/octet-stream", []byte(`{}`)), layers: dockerLayers, opts: &image.Options{MediaType: image.MediaTypeDockerManifest}, wantCounts: []int{0, 2}},
		{name: "artifact config", config: image.BytesBlob("application/vnd.example.config", []byte(`{}`)), layers: layers},
		{name: "empty config", config: image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte(`{}`)), layers: layers, opts: &image.Options{ArtifactType: "application/vnd.example"}},
		{name: "streamed config is not read", config: image.NewBlob(image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{}`)).Descriptor(), nil), layers: layers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := image.New(tc.config, tc.layers, tc.opts)
			if tc.wantCounts == nil {
				if err != nil {
					t.Fatalf("New = %v, want no error", err)
				}
				return
			}
			var ce *image.DiffIDCountError
			if !errors.As(err, &ce) || !errors.Is(err, image.ErrInvalid) {
				t.Fatalf("New = %v, want a *DiffIDCountError matching ErrInvalid", err)
			}
			if ce.DiffIDs != tc.wantCounts[0] || ce.Layers != tc.wantCounts[1] {
				t.Errorf("counts = %d diff_ids, %d layers; want %v", ce.DiffIDs, ce.Layers, tc.wantCounts)
			}
		})
	}
}

func TestNewImageConfigNotJSON(t *testing.T) {
	t.Parallel()
	_, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, []byte("not json")), nil, nil)
	if !errors.Is(err, image.ErrInvalid) {
		t.Fatalf("New(config not JSON) = %v, want ErrInvalid", err)
	}
}

// TestLoadInconsistent checks that a pulled image whose config does not
// count its layers still loads: Load checks the manifest, validation the
// content.
func TestLoadInconsistent(t *testing.T) {
	t.Parallel()
	raw := []byte(ociManifest()) // its config's content is unknown
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	if _, err := image.Load(d, raw, nil); err != nil {
		t.Fatalf("Load = %v", err)
	}
}
