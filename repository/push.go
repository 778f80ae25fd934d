package repository

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/transport"
)

// Push uploads img and names it with tags, in the order that never leaves
// anything half-written visible: the blobs first (skipping those the
// repository already has), then the manifest, then the tags. With no tags
// the image is stored by digest only. Every tag is validated before anything
// is uploaded. It returns the descriptor of the image's manifest.
func (r *Repository) Push(ctx context.Context, img *image.Image, tags ...string) (ocispec.Descriptor, error) {
	desc := img.Descriptor()
	if err := r.checkTags(tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s to %s: %w", desc.Digest, r.name, err)
	}
	for _, b := range img.Blobs() {
		if err := r.PushBlob(ctx, b); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("push %s to %s: %w", desc.Digest, r.name, err)
		}
	}
	if err := r.putManifest(ctx, desc, img.Raw(), tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s to %s: %w", desc.Digest, r.name, err)
	}
	return desc, nil
}

// PushIndex uploads the index ix and names it with tags. The manifests it
// lists must already be in the repository (push them first with
// [Repository.Push]); otherwise it fails with
// [transport.ErrManifestBlobUnknown] and nothing changes.
func (r *Repository) PushIndex(ctx context.Context, ix *image.Index, tags ...string) (ocispec.Descriptor, error) {
	desc := ix.Descriptor()
	if err := r.checkTags(tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push index %s to %s: %w", desc.Digest, r.name, err)
	}
	if err := r.putManifest(ctx, desc, ix.Raw(), tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push index %s to %s: %w", desc.Digest, r.name, err)
	}
	return desc, nil
}

// PushBlob uploads one blob, streaming it, unless the repository already has
// it. The registry verifies the bytes against the blob's digest and size
// before it keeps them.
func (r *Repository) PushBlob(ctx context.Context, b image.Blob) error {
	if r.err != nil {
		return r.err
	}
	desc := b.Descriptor()
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("push blob: %w", transport.Errorf(transport.CodeDigestInvalid, "digest %q: %v", desc.Digest, err))
	}
	have, err := r.t.StatBlob(ctx, r.name, desc.Digest)
	switch {
	case err == nil && (desc.Size < 0 || have.Size == desc.Size):
		return nil
	case err != nil && !errors.Is(err, transport.ErrNotFound):
		return fmt.Errorf("check blob %s: %w", desc.Digest, err)
	}
	rc, err := b.Open(ctx)
	if err != nil {
		return fmt.Errorf("open blob %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	if err := r.t.PutBlob(ctx, r.name, desc, rc); err != nil {
		return fmt.Errorf("put blob %s: %w", desc.Digest, err)
	}
	return nil
}

// putManifest stores raw by digest, or under each tag (the first put stores
// the manifest and its first tag at once).
func (r *Repository) putManifest(ctx context.Context, desc ocispec.Descriptor, raw []byte, tags []string) error {
	if len(tags) == 0 {
		tags = []string{desc.Digest.String()}
	}
	for _, t := range tags {
		if _, err := r.t.PutManifest(ctx, r.name, t, desc.MediaType, raw, nil); err != nil {
			return fmt.Errorf("put manifest as %s: %w", t, err)
		}
	}
	return nil
}

func (r *Repository) checkTags(tags []string) error {
	if r.err != nil {
		return r.err
	}
	for _, t := range tags {
		if err := reference.ValidateTag(t); err != nil {
			return transport.Errorf(transport.CodeTagInvalid, "tag %q: %v", t, err)
		}
	}
	return nil
}
