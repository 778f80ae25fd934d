package image_test

import (
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
)

// TestNewLayerFamily checks that New refuses a Docker manifest that lists
// OCI layer types (Docker-strict consumers refuse it), and builds the
// other combinations.
func TestNewLayerFamily(t *testing.T) {
	t.Parallel()
	docker := &image.Options{MediaType: image.MediaTypeDockerManifest}
	tests := []struct {
		name     string
		layer    string
		opts     *image.Options
		rejected bool
	}{
		{"oci gzip in docker", ocispec.MediaTypeImageLayerGzip, docker, true},
		{"oci tar in docker", ocispec.MediaTypeImageLayer, docker, true},
		{"oci zstd in docker", ocispec.MediaTypeImageLayerZstd, docker, true},
		{"docker gzip in docker", image.MediaTypeDockerLayer, docker, false},
		{"docker foreign in docker", image.MediaTypeDockerForeignLayer, docker, false},
		{"oci gzip in oci", ocispec.MediaTypeImageLayerGzip, nil, false},
		{"docker gzip in oci", image.MediaTypeDockerLayer, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mt := image.MediaTypeDockerConfig
			if tc.opts == nil {
				mt = ocispec.MediaTypeImageConfig
			}
			_, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, mt, tc.layer, [][]byte{[]byte("x")}, nil, tc.opts)
			if got := errors.Is(err, image.ErrInvalid); got != tc.rejected {
				t.Errorf("New = %v, want rejected %v", err, tc.rejected)
			}
			if !tc.rejected && err != nil {
				t.Errorf("New = %v", err)
			}
		})
	}
}
