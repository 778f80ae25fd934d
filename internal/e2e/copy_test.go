package e2e

import (
	"io"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport/remote"
)

// requireCopied checks that dst holds the manifest d with the bytes src
// has, and every blob of img, verified as it is read.
func requireCopied(t *testing.T, src, dst *repository.Repository, d digest.Digest, img *image.Image) {
	t.Helper()
	ctx := t.Context()
	_, want, err := src.Manifest(ctx, d)
	require.NoError(t, err)
	_, got, err := dst.Manifest(ctx, d)
	require.NoError(t, err)
	require.Equal(t, want, got, "manifest %s unchanged", d)
	for _, b := range img.Blobs() {
		rc, err := dst.Blob(ctx, b.Descriptor())
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		require.NoError(t, err, "blob %s verifies", b.Descriptor().Digest)
	}
}

// TestCopyDistribution copies an image with an SBOM from the fake registry
// over HTTP to Debian's docker-registry, from there to another repository
// of docker-registry (mounting the blobs), and back to a new fake registry,
// checking digests at every step.
func TestCopyDistribution(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fakeReg, err := registry.New(fake.Serve(t).Host)
	require.NoError(t, err)
	dist, err := registry.New(regtest.Distribution(t, ""))
	require.NoError(t, err)
	backReg, err := registry.New(fake.Serve(t).Host)
	require.NoError(t, err)

	img := appImage(t, "myapp1", "3.0", 3)
	want := img.Descriptor().Digest
	src := fakeReg.Repository("myapp1")
	_, err = src.Push(ctx, img, "3.0")
	require.NoError(t, err)
	sbom, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		[]image.Blob{image.BytesBlob("application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`))},
		&image.Options{ArtifactType: "application/spdx+json", Subject: &ocispec.Descriptor{
			MediaType: img.Descriptor().MediaType, Digest: want, Size: img.Descriptor().Size,
		}})
	require.NoError(t, err)
	_, err = src.Push(ctx, sbom)
	require.NoError(t, err)

	steps := []struct {
		name       string
		src, dst   *repository.Repository
		tags       []string
		referrers  bool
		blobAction regkit.CopyAction
	}{
		{name: "fake to docker-registry", src: src, dst: dist.Repository("myapp1"),
			tags: []string{"3.0", "latest"}, referrers: true, blobAction: regkit.Copied},
		{name: "docker-registry to another repository", src: dist.Repository("myapp1"), dst: dist.Repository("prod/myapp1"),
			tags: []string{"3.0"}, blobAction: regkit.Mounted},
		{name: "docker-registry back to fake", src: dist.Repository("prod/myapp1"), dst: backReg.Repository("myapp1"),
			tags: []string{"3.0"}, blobAction: regkit.Copied},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			rep, err := regkit.Copy(ctx, s.src, "3.0", s.dst, &regkit.CopyOptions{Tags: s.tags, Referrers: s.referrers})
			require.NoError(t, err)
			require.Equal(t, want, rep.Descriptor.Digest)
			requireCopied(t, s.src, s.dst, want, img)
			for _, tag := range s.tags {
				got, err := s.dst.Resolve(ctx, tag)
				require.NoError(t, err)
				require.Equal(t, want, got.Digest, "tag %s", tag)
			}
			require.Equal(t, len(img.Blobs()), countBlobs(rep, s.blobAction), "blobs %s", s.blobAction)
			if s.referrers {
				requireCopied(t, s.src, s.dst, sbom.Descriptor().Digest, sbom)
				var refs []digest.Digest
				for d, err := range s.dst.Referrers(ctx, want, nil) {
					require.NoError(t, err)
					refs = append(refs, d.Digest)
				}
				require.Equal(t, []digest.Digest{sbom.Descriptor().Digest}, refs)
			}

			again, err := regkit.Copy(ctx, s.src, "3.0", s.dst, &regkit.CopyOptions{Tags: s.tags})
			require.NoError(t, err)
			require.Zero(t, again.Bytes(), "a second copy moves nothing")
		})
	}
}

// countBlobs counts the image's blobs in rep with action a, leaving out
// the SBOM's, which are there when referrers were copied.
func countBlobs(rep *regkit.CopyReport, a regkit.CopyAction) int {
	n := 0
	for _, b := range rep.Blobs {
		if b.Action == a && b.Descriptor.MediaType != ocispec.MediaTypeEmptyJSON && b.Descriptor.MediaType != "application/spdx+json" {
			n++
		}
	}
	return n
}

// TestCopyDistributionRequests copies a 20-layer image to another
// repository of docker-registry and counts the requests: at most 25, the
// blobs mounted, and a second copy costs three.
func TestCopyDistributionRequests(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rt := &countingRT{base: http.DefaultTransport.(*http.Transport).Clone()}
	reg, err := registry.New(regtest.Distribution(t, ""), registry.WithClientOptions(remote.WithRoundTripper(rt)))
	require.NoError(t, err)
	img := appImage(t, "myapp1", "3.0", 20)
	src, dst := reg.Repository("myapp1"), reg.Repository("prod/myapp1")
	_, err = src.Push(ctx, img, "3.0")
	require.NoError(t, err)

	rt.n.Store(0)
	rep, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	t.Logf("docker-registry, same registry, 20 layers: %d requests", rt.n.Load())
	require.LessOrEqual(t, rt.n.Load(), int64(25))
	require.Equal(t, 21, rep.Count(regkit.Mounted))
	requireCopied(t, src, dst, img.Descriptor().Digest, img)

	rt.n.Store(0)
	again, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	t.Logf("docker-registry, re-copy: %d requests", rt.n.Load())
	require.LessOrEqual(t, rt.n.Load(), int64(3))
	require.Zero(t, again.Bytes())
}
