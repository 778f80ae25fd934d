package mutate

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
)

// LayerMediaTypeError is what [Append] returns when a new layer's media
// type has no counterpart in the base manifest's family: a zstd layer (or
// any other OCI-only layer type) for a Docker manifest, which has no zstd
// layer type. It wraps [image.ErrUnsupportedMediaType].
type LayerMediaTypeError struct {
	Layer     int    // the index of the layer among the new ones
	MediaType string // the layer's media type
	Manifest  string // the base manifest's media type
}

func (e *LayerMediaTypeError) Error() string {
	return fmt.Sprintf("layers[%d]: a %s manifest has no layer type for %s", e.Layer, e.Manifest, e.MediaType)
}

// Unwrap returns [image.ErrUnsupportedMediaType].
func (e *LayerMediaTypeError) Unwrap() error { return image.ErrUnsupportedMediaType }

// toDocker and toOCI map a layer media type to the same bytes' type in
// the other family.
var (
	toDocker = map[string]string{
		ocispec.MediaTypeImageLayerGzip: layer.MediaTypeDockerGzip,
		ocispec.MediaTypeImageLayer:     layer.MediaTypeDockerTar,
	}
	toOCI = map[string]string{
		layer.MediaTypeDockerGzip: ocispec.MediaTypeImageLayerGzip,
		layer.MediaTypeDockerTar:  ocispec.MediaTypeImageLayer,
	}
)

// ociLayerPrefix starts every OCI layer media type.
const ociLayerPrefix = "application/vnd.oci.image.layer."

// inFamily returns blob with the media type of its family's counterpart
// when manifest (a manifest media type) is of the other family: OCI
// tar+gzip and tar layers become Docker ones in a Docker manifest, and
// the reverse in an OCI one. Other types stay, except OCI layer types with
// no Docker counterpart (zstd) in a Docker manifest: a
// [*LayerMediaTypeError] for the new layer i.
func inFamily(i int, blob image.Blob, manifest string) (image.Blob, error) {
	mt := blob.Descriptor().MediaType
	if manifest == image.MediaTypeDockerManifest {
		if d, ok := toDocker[mt]; ok {
			return blob.WithMediaType(d), nil
		}
		if strings.HasPrefix(mt, ociLayerPrefix) {
			return image.Blob{}, &LayerMediaTypeError{Layer: i, MediaType: mt, Manifest: manifest}
		}
		return blob, nil
	}
	if o, ok := toOCI[mt]; ok {
		return blob.WithMediaType(o), nil
	}
	return blob, nil
}
