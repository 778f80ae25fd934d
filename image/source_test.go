package image_test

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
)

// TestWithSource checks that WithSource records the source on the config
// and every layer, and changes nothing else.
func TestWithSource(t *testing.T) {
	l := image.BytesBlob(ocispec.MediaTypeImageLayerGzip, []byte("layer"))
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{"rootfs":{"type":"layers","diff_ids":["`+l.Descriptor().Digest.String()+`"]}}`))
	img, err := image.New(cfg, []image.Blob{l}, nil)
	require.NoError(t, err)
	for _, b := range img.Blobs() {
		_, ok := b.Source()
		require.False(t, ok, "a built blob has no source")
	}

	src := image.Source{Transport: fake.NewStore(), Repository: "base"}
	got := img.WithSource(src)
	require.Equal(t, img.Descriptor(), got.Descriptor())
	require.Equal(t, img.Raw(), got.Raw())
	for i, b := range got.Blobs() {
		s, ok := b.Source()
		require.True(t, ok)
		require.Equal(t, src, s)
		require.Equal(t, img.Blobs()[i].Descriptor(), b.Descriptor())
	}
	_, ok := img.Layers()[0].Source()
	require.False(t, ok, "the original is unchanged")
}
