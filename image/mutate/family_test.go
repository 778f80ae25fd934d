package mutate_test

import (
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
)

// dockerBase returns a Docker-manifest base of one Docker gzip layer, with
// a Docker config.
func dockerBase(t *testing.T) *image.Image {
	t.Helper()
	l := tgz(t, "base", "base")
	cfg := image.BytesBlob(image.MediaTypeDockerConfig,
		[]byte(`{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["`+l.DiffID+`"]},"history":[{"created_by":"base"}]}`))
	b, err := image.New(cfg, []image.Blob{withType(l.Blob, image.MediaTypeDockerLayer)}, &image.Options{MediaType: image.MediaTypeDockerManifest})
	require.NoError(t, err)
	return b
}

// withType returns b under media type mt.
func withType(b image.Blob, mt string) image.Blob {
	d := b.Descriptor()
	d.MediaType = mt
	return image.NewBlob(d, b.Open)
}

// TestAppendLayerMediaTypeFamily checks that the new layers take the media
// type family of the base's manifest: OCI layers on a Docker base become
// Docker layers (a Docker manifest listing OCI layers is refused by
// Docker-strict consumers), Docker layers on an OCI base become OCI
// layers, and the bytes (the digest) stay.
func TestAppendLayerMediaTypeFamily(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name  string
		base  *image.Image
		layer string // the new layer's media type
		want  string // its media type in the new manifest
	}{
		{"oci gzip on docker", dockerBase(t), ocispec.MediaTypeImageLayerGzip, image.MediaTypeDockerLayer},
		{"oci tar on docker", dockerBase(t), ocispec.MediaTypeImageLayer, "application/vnd.docker.image.rootfs.diff.tar"},
		{"docker gzip on docker", dockerBase(t), image.MediaTypeDockerLayer, image.MediaTypeDockerLayer},
		{"docker gzip on oci", base(t, "amd64", 1), image.MediaTypeDockerLayer, ocispec.MediaTypeImageLayerGzip},
		{"docker tar on oci", base(t, "amd64", 1), "application/vnd.docker.image.rootfs.diff.tar", ocispec.MediaTypeImageLayer},
		{"oci zstd on oci", base(t, "amd64", 1), ocispec.MediaTypeImageLayerZstd, ocispec.MediaTypeImageLayerZstd},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := tgz(t, "app", "x")
			app.Blob = withType(app.Blob, tc.layer)
			img, err := mutate.Append(ctx, tc.base, []mutate.Layer{app}, nil)
			require.NoError(t, err)
			m := img.Manifest()
			require.Equal(t, tc.base.Manifest().MediaType, m.MediaType)
			require.Equal(t, tc.base.Manifest().Layers[0], m.Layers[0], "base layer unchanged")
			got := m.Layers[len(m.Layers)-1]
			require.Equal(t, tc.want, got.MediaType)
			require.Equal(t, app.Blob.Descriptor().Digest, got.Digest)
			require.Equal(t, tc.want, img.Layers()[len(m.Layers)-1].Descriptor().MediaType)
		})
	}
}

// TestAppendZstdOnDocker checks that a zstd layer, which Docker has no
// media type for, is refused on a Docker base with a typed error.
func TestAppendZstdOnDocker(t *testing.T) {
	app := tgz(t, "app", "x")
	app.Blob = withType(app.Blob, ocispec.MediaTypeImageLayerZstd)
	ok := tgz(t, "ok", "y")
	_, err := mutate.Append(t.Context(), dockerBase(t), []mutate.Layer{ok, app}, nil)
	var le *mutate.LayerMediaTypeError
	require.True(t, errors.As(err, &le), "error %v", err)
	require.Equal(t, 1, le.Layer)
	require.Equal(t, ocispec.MediaTypeImageLayerZstd, le.MediaType)
	require.Equal(t, image.MediaTypeDockerManifest, le.Manifest)
	require.ErrorIs(t, err, image.ErrUnsupportedMediaType)
}
