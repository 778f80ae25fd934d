package validate

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// Source fetches the manifests an index refers to, verified against their
// digest. A *repository.Repository is one.
type Source interface {
	// Image fetches and decodes the image manifest of digest d; its blobs
	// open from the same place.
	Image(ctx context.Context, d digest.Digest) (*image.Image, error)
	// Index fetches and decodes the index of digest d.
	Index(ctx context.Context, d digest.Digest) (*image.Index, error)
}

// Index checks every manifest of idx, fetched from src: images with
// [Image], nested indexes with Index. Each child must have the media type
// and size its descriptor says, and an image's config must name the
// platform its descriptor names (os, architecture, and variant when both
// give one). Children of types that are neither an image nor an index
// are skipped. The first problem is returned as a [*ChildError].
func Index(ctx context.Context, idx *image.Index, src Source) error {
	for i, d := range idx.Manifests() {
		if err := child(ctx, d, src); err != nil {
			return &ChildError{Index: i, Descriptor: d, Err: err}
		}
	}
	return nil
}

// Manifest fetches what desc names from src and checks it: an image with
// [Image], an index with [Index]. It suits checking what was just pushed:
//
//	desc, err := repo.Push(ctx, img, "1.0")
//	...
//	err = validate.Manifest(ctx, repo, desc)
func Manifest(ctx context.Context, src Source, desc ocispec.Descriptor) error {
	switch {
	case image.IsIndex(desc.MediaType):
		idx, err := src.Index(ctx, desc.Digest)
		if err != nil {
			return err
		}
		if err := sameDescriptor(desc, idx.Descriptor()); err != nil {
			return err
		}
		return Index(ctx, idx, src)
	case image.IsManifest(desc.MediaType):
		return checkImage(ctx, desc, src)
	}
	return fmt.Errorf("%w: %q is neither an image nor an index", image.ErrUnsupportedMediaType, desc.MediaType)
}

// child checks one manifest of an index.
func child(ctx context.Context, d ocispec.Descriptor, src Source) error {
	if image.IsManifest(d.MediaType) || image.IsIndex(d.MediaType) {
		return Manifest(ctx, src, d)
	}
	return nil
}

// checkImage fetches the image d names and checks it, and that its config
// names the platform d names, if any.
func checkImage(ctx context.Context, d ocispec.Descriptor, src Source) error {
	img, err := src.Image(ctx, d.Digest)
	if err != nil {
		return err
	}
	if err := sameDescriptor(d, img.Descriptor()); err != nil {
		return err
	}
	if err := Image(ctx, img); err != nil {
		return err
	}
	if d.Platform == nil || !img.HasImageConfig() {
		return nil
	}
	cfg, err := img.ConfigFile(ctx)
	if err != nil {
		return err
	}
	p := d.Platform
	if p.OS != cfg.OS || p.Architecture != cfg.Architecture || (p.Variant != "" && cfg.Variant != "" && p.Variant != cfg.Variant) {
		return fmt.Errorf("%w: the index says %s, the config %s", image.ErrInvalid,
			image.FormatPlatform(*p), image.FormatPlatform(cfg.Platform))
	}
	return nil
}

// sameDescriptor checks that what was fetched is what the descriptor
// says: media type and size (the source verified the digest).
func sameDescriptor(want, got ocispec.Descriptor) error {
	if want.MediaType != got.MediaType {
		return fmt.Errorf("%w: media type %s, descriptor says %s", image.ErrInvalid, got.MediaType, want.MediaType)
	}
	if want.Size != 0 && want.Size != got.Size {
		return fmt.Errorf("%w: %d bytes, descriptor says %d", image.ErrInvalid, got.Size, want.Size)
	}
	return nil
}
