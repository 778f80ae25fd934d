package mutate

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// Loader fetches the image manifest with digest d, whose blobs open
// lazily. [github.com/regkit/regkit/repository.Repository.Image] is one:
// pass repo.Image.
type Loader func(ctx context.Context, d digest.Digest) (*image.Image, error)

// PlatformFunc says what [AppendIndex] adds to the image of platform p:
// its layers, and an edit of its config (nil for none). Returning no
// layers and a nil edit still makes a new image, with the same layers.
type PlatformFunc func(ctx context.Context, p ocispec.Platform) ([]Layer, Edit, error)

// attestationType is the annotation value with which BuildKit marks the
// attestation manifests of an index (platform unknown/unknown).
const attestationType = "attestation-manifest"

// AppendIndex appends to every platform of the index base: for each image
// it lists, it loads the image with load (its manifest and config are
// read, its layers are not), asks add what to append for its platform, and
// makes the new image with [Append]. It returns the new index, listing the
// new images in base's order with their platforms and annotations, and the
// images themselves. Push the images, then the index:
//
//	ix, imgs, err := mutate.AppendIndex(ctx, base, repo.Image, add)
//	for _, img := range imgs {
//		_, err = repo.Push(ctx, img)
//	}
//	_, err = repo.PushIndex(ctx, ix, "latest")
//
// The platform given to add is the one base's entry names, or, when the
// entry names none, the one its config names. Entries that describe the
// old images rather than run (BuildKit attestation manifests, artifacts
// with an artifactType) are left out of the new index, since their
// subjects are not in it. A nested index is refused with an error
// wrapping [image.ErrUnsupportedMediaType]. The new index keeps base's
// media type and annotations.
func AppendIndex(ctx context.Context, base *image.Index, load Loader, add PlatformFunc) (*image.Index, []*image.Image, error) {
	var descs []ocispec.Descriptor
	var imgs []*image.Image
	for _, d := range base.Manifests() {
		if image.IsIndex(d.MediaType) {
			return nil, nil, fmt.Errorf("append to index %s: %w: entry %s is an index", base.Descriptor().Digest, image.ErrUnsupportedMediaType, d.Digest)
		}
		if d.ArtifactType != "" || d.Annotations["vnd.docker.reference.type"] == attestationType {
			continue
		}
		img, err := appendPlatform(ctx, d, load, add)
		if err != nil {
			return nil, nil, fmt.Errorf("append to index %s: %w", base.Descriptor().Digest, err)
		}
		nd := img.Descriptor()
		d.MediaType, d.Digest, d.Size = nd.MediaType, nd.Digest, nd.Size
		descs = append(descs, d)
		imgs = append(imgs, img)
	}
	b := base.Index()
	ix, err := image.NewIndex(descs, &image.Options{MediaType: b.MediaType, Annotations: b.Annotations})
	if err != nil {
		return nil, nil, fmt.Errorf("append to index %s: %w", base.Descriptor().Digest, err)
	}
	return ix, imgs, nil
}

// appendPlatform makes the new image for the index entry d.
func appendPlatform(ctx context.Context, d ocispec.Descriptor, load Loader, add PlatformFunc) (*image.Image, error) {
	base, err := load(ctx, d.Digest)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", d.Digest, err)
	}
	var p ocispec.Platform
	if d.Platform != nil {
		p = *d.Platform
	} else {
		cfg, err := base.ConfigFile(ctx)
		if err != nil {
			return nil, fmt.Errorf("platform of %s: %w", d.Digest, err)
		}
		p = cfg.Platform
	}
	layers, edit, err := add(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", d.Digest, image.FormatPlatform(p), err)
	}
	img, err := Append(ctx, base, layers, edit)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", d.Digest, image.FormatPlatform(p), err)
	}
	return img, nil
}
