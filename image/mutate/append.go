package mutate

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// Layer is a layer to add to an image: its blob (the layer as the registry
// stores it, usually a gzipped tar), its DiffID (the digest of the
// uncompressed tar, which the config lists in rootfs.diff_ids), and the
// History entry that describes it in the config. A zero History adds an
// empty entry ({}); EmptyLayer is always false, as the entry has a layer.
type Layer struct {
	Blob    image.Blob
	DiffID  digest.Digest
	History ocispec.History
}

// Edit changes an image's config. [Append] calls it on the new config
// once the new layers' diff_ids and history entries are in: it may set
// any field (Env, Entrypoint, Cmd, Labels, Created, ...) but must leave
// rootfs.diff_ids one per layer. A non-nil error stops the mutation and is
// returned as is, wrapped.
type Edit func(*ocispec.Image) error

// Append returns a new image: base's layers followed by layers, with
// base's config extended by one rootfs.diff_id and one history entry per
// new layer, then changed by edit (nil for no change). It keeps base's
// manifest media type and annotations, and the config's media type.
//
// The new layers take the media type family of base's manifest: an OCI
// tar+gzip layer (what the image/layer builders make by default) is listed
// as a Docker rootfs.diff.tar.gzip layer in a Docker manifest, a plain tar
// as a Docker rootfs.diff.tar, and Docker layers as their OCI counterparts
// in an OCI manifest; the bytes and digests stay. A zstd layer, which
// Docker has no type for, is refused on a Docker base with a
// [*LayerMediaTypeError].
//
// Append reads base's config (through its blob: one small request for a
// pulled image), never its layers. It fails with an error wrapping
// [image.ErrInvalid] when base's config does not list one diff_id per
// layer, when a layer's DiffID is not a valid digest, or when edit left the
// diff_ids out of step with the layers; and wrapping
// [image.ErrUnsupportedMediaType] when base is not a container image (an
// artifact). Append with no layers only changes the config.
//
// When base's history has fewer entries with layers than base has layers
// (some builders write none), empty entries are added for the missing ones
// first, so that each layer keeps an entry of its own.
func Append(ctx context.Context, base *image.Image, layers []Layer, edit Edit) (*image.Image, error) {
	for i, l := range layers {
		if err := l.DiffID.Validate(); err != nil {
			return nil, fmt.Errorf("append: layers[%d]: diff_id %q: %w: %w", i, l.DiffID, image.ErrInvalid, err)
		}
	}
	cfg, err := readConfig(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", base.Descriptor().Digest, err)
	}
	baseLayers := base.Layers()
	if err := checkDiffIDs("base", cfg.typed, len(baseLayers)); err != nil {
		return nil, fmt.Errorf("append to %s: %w", base.Descriptor().Digest, err)
	}
	c := &cfg.typed
	c.RootFS.Type = "layers"
	padHistory(c, len(baseLayers))
	blobs := baseLayers
	mt := base.Manifest().MediaType
	for i, l := range layers {
		blob, err := inFamily(i, l.Blob, mt)
		if err != nil {
			return nil, fmt.Errorf("append to %s: %w", base.Descriptor().Digest, err)
		}
		h := l.History
		h.EmptyLayer = false
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, l.DiffID)
		c.History = append(c.History, h)
		blobs = append(blobs, blob)
	}
	return finish(ctx, base, cfg, blobs, edit)
}

// finish applies edit to cfg, checks the diff_ids against blobs, and
// builds the image of cfg and blobs with from's manifest media type and
// annotations.
func finish(_ context.Context, from *image.Image, cfg config, blobs []image.Blob, edit Edit) (*image.Image, error) {
	d := from.Descriptor().Digest
	if edit != nil {
		if err := edit(&cfg.typed); err != nil {
			return nil, fmt.Errorf("edit the config of %s: %w", d, err)
		}
	}
	if err := checkDiffIDs("new", cfg.typed, len(blobs)); err != nil {
		return nil, fmt.Errorf("mutate %s: %w", d, err)
	}
	cb, err := cfg.blob()
	if err != nil {
		return nil, fmt.Errorf("mutate %s: %w", d, err)
	}
	m := from.Manifest()
	img, err := image.New(cb, blobs, &image.Options{MediaType: m.MediaType, Annotations: m.Annotations})
	if err != nil {
		return nil, fmt.Errorf("mutate %s: %w", d, err)
	}
	return img, nil
}

// checkDiffIDs checks that c lists one diff_id per layer; which names the
// config in the error.
func checkDiffIDs(which string, c ocispec.Image, layers int) error {
	if n := len(c.RootFS.DiffIDs); n != layers {
		return fmt.Errorf("%w: the %s config lists %d diff_ids for %d layers", image.ErrInvalid, which, n, layers)
	}
	return nil
}

// padHistory adds empty history entries to c until it has at least layers
// entries with a layer.
func padHistory(c *ocispec.Image, layers int) {
	n := 0
	for _, h := range c.History {
		if !h.EmptyLayer {
			n++
		}
	}
	for ; n < layers; n++ {
		c.History = append(c.History, ocispec.History{})
	}
}
