package e2e

import (
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
)

// TestCopyMatrix copies a two-platform index with an SBOM attached to it
// between every pair of backends: the in-memory registry, the fake over
// HTTP, docker-registry and a directory of OCI layouts, both ways and
// within each. At the end the target holds the same index, the same
// platform manifests byte for byte, every blob (verified as read) and the
// SBOM among the index's referrers.
func TestCopyMatrix(t *testing.T) {
	ctx := t.Context()
	layout, err := ocilayout.New(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { layout.Close() })
	fakeHTTP, err := registry.New(fake.Serve(t).Host)
	require.NoError(t, err)
	dist, err := registry.New(regtest.Distribution(t, ""))
	require.NoError(t, err)
	backends := []struct {
		name string
		reg  *registry.Registry
	}{
		{"memory", fake.New().Registry},
		{"fake-http", fakeHTTP},
		{"docker-registry", dist},
		{"layout", layout.Registry},
	}

	amd64, arm64 := appImage(t, "myapp1", "3.0", 2), layoutArmImage(t)
	for i, from := range backends {
		for j, to := range backends {
			t.Run(from.name+" to "+to.name, func(t *testing.T) {
				src := from.reg.Repository(fmt.Sprintf("src/m%d%d", i, j))
				dst := to.reg.Repository(fmt.Sprintf("dst/m%d%d", i, j))
				ix, err := src.PushPlatforms(ctx, []*image.Image{amd64, arm64}, "3.0")
				require.NoError(t, err)
				subject := ix.Descriptor()
				sbom, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
					[]image.Blob{image.BytesBlob("application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3","name":"myapp1"}`))},
					&image.Options{ArtifactType: "application/spdx+json", Subject: &subject})
				require.NoError(t, err)
				_, err = src.Push(ctx, sbom)
				require.NoError(t, err)

				rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Referrers: true})
				require.NoError(t, err)
				require.Equal(t, subject.Digest, rep.Descriptor.Digest)

				got, err := dst.Resolve(ctx, "3.0")
				require.NoError(t, err)
				require.Equal(t, subject.Digest, got.Digest, "3.0 in the target")
				requireCopied(t, src, dst, amd64.Descriptor().Digest, amd64)
				requireCopied(t, src, dst, arm64.Descriptor().Digest, arm64)
				requireCopied(t, src, dst, sbom.Descriptor().Digest, sbom)
				var referrers []string
				for d, err := range dst.Referrers(ctx, subject.Digest, nil) {
					require.NoError(t, err)
					referrers = append(referrers, d.Digest.String())
				}
				require.Equal(t, []string{sbom.Descriptor().Digest.String()}, referrers, "referrers of the index in the target")
			})
		}
	}
}
