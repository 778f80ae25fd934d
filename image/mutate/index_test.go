package mutate_test

import (
	"context"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
)

// TestAppendIndex appends a layer of its own to each platform of a base
// index pulled over HTTP (the ko flow), pushes the images and the new
// index to another repository of the same registry, and checks that the
// platforms and annotations survive, the attestation is left out, and no
// byte of a base layer moved.
func TestAppendIndex(t *testing.T) {
	ctx := t.Context()
	s := serve(t)
	repo := s.reg.Repository("base")
	var descs []ocispec.Descriptor
	bases := map[string]*image.Image{}
	for _, arch := range []string{"amd64", "arm64"} {
		b := base(t, arch, 3)
		bases[arch] = b
		d, err := repo.Push(ctx, b)
		require.NoError(t, err)
		d.Platform = &ocispec.Platform{OS: "linux", Architecture: arch}
		d.Annotations = map[string]string{"arch": arch}
		descs = append(descs, d)
	}
	att := base(t, "unknown", 1)
	d, err := repo.Push(ctx, att)
	require.NoError(t, err)
	d.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	d.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": descs[0].Digest.String()}
	descs = append(descs, d)
	ix, err := image.NewIndex(descs, &image.Options{Annotations: map[string]string{"org.opencontainers.image.source": "x"}})
	require.NoError(t, err)
	_, err = repo.PushIndex(ctx, ix, "1")
	require.NoError(t, err)

	s.reset()
	pulled, err := repo.Tag("1").Index(ctx)
	require.NoError(t, err)
	apps := map[string]mutate.Layer{}
	add := func(_ context.Context, p ocispec.Platform) ([]mutate.Layer, mutate.Edit, error) {
		apps[p.Architecture] = tgz(t, "app", "binary for "+p.Architecture)
		return []mutate.Layer{apps[p.Architecture]}, func(c *ocispec.Image) error {
			c.Config.Entrypoint = []string{"/app"}
			return nil
		}, nil
	}
	nix, imgs, err := mutate.AppendIndex(ctx, pulled, repo.Image, add)
	require.NoError(t, err)
	dst := s.reg.Repository("app")
	for _, img := range imgs {
		_, err := dst.Push(ctx, img)
		require.NoError(t, err)
	}
	_, err = dst.PushIndex(ctx, nix, "1")
	require.NoError(t, err)
	reqs := s.srv.Requests()
	tl := count(reqs)
	t.Logf("append to a 2-platform index of 3-layer images and push it: %d requests\n%s", len(reqs), requestLines(reqs))
	for _, b := range bases {
		for _, l := range b.Layers() {
			require.Zero(t, tl.blobGETs[l.Descriptor().Digest], "base layer read")
		}
	}
	require.Equal(t, size(bases["amd64"].Config(), bases["arm64"].Config()), tl.bytesRead, "only the base configs read")
	sent := size(apps["amd64"].Blob, apps["arm64"].Blob, imgs[0].Config(), imgs[1].Config()) +
		imgs[0].Descriptor().Size + imgs[1].Descriptor().Size + nix.Descriptor().Size
	require.Equal(t, sent, s.sent.sent.Load(), "only the new content sent")

	got, err := dst.Tag("1").Index(ctx)
	require.NoError(t, err)
	require.Equal(t, nix.Descriptor().Digest, got.Descriptor().Digest)
	require.Equal(t, "x", got.Index().Annotations["org.opencontainers.image.source"])
	ms := got.Manifests()
	require.Len(t, ms, 2, "attestation left out")
	for i, arch := range []string{"amd64", "arm64"} {
		require.Equal(t, &ocispec.Platform{OS: "linux", Architecture: arch}, ms[i].Platform)
		require.Equal(t, map[string]string{"arch": arch}, ms[i].Annotations)
		img, err := dst.Image(ctx, ms[i].Digest)
		require.NoError(t, err)
		want := append(bases[arch].Layers(), apps[arch].Blob)
		require.Len(t, img.Layers(), len(want))
		for j, l := range img.Layers() {
			require.Equal(t, want[j].Descriptor().Digest, l.Descriptor().Digest)
		}
		c, err := img.ConfigFile(ctx)
		require.NoError(t, err)
		require.Equal(t, arch, c.Architecture)
		require.Equal(t, []string{"/app"}, c.Config.Entrypoint)
		require.Len(t, c.RootFS.DiffIDs, 4)
	}
}

// TestAppendIndexErrors checks that a nested index is refused and that an
// error of the PlatformFunc names the platform.
func TestAppendIndexErrors(t *testing.T) {
	ctx := t.Context()
	b := base(t, "amd64", 1)
	load := func(context.Context, digest.Digest) (*image.Image, error) { return b, nil }
	bd := b.Descriptor()
	bd.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	inner, err := image.NewIndex([]ocispec.Descriptor{bd}, nil)
	require.NoError(t, err)
	nested, err := image.NewIndex([]ocispec.Descriptor{inner.Descriptor()}, nil)
	require.NoError(t, err)
	_, _, err = mutate.AppendIndex(ctx, nested, load, nil)
	require.ErrorIs(t, err, image.ErrUnsupportedMediaType)

	fail := func(context.Context, ocispec.Platform) ([]mutate.Layer, mutate.Edit, error) {
		return nil, nil, context.Canceled
	}
	_, _, err = mutate.AppendIndex(ctx, inner, load, fail)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "linux/amd64")
}
