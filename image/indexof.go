package image

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IndexOf builds a multi-platform index of imgs, one entry per image, in
// order, each with the platform its configuration names (os, architecture,
// variant, os.version and os.features), as docker buildx writes them. It
// reads each image's config (see [Image.ConfigFile]). An image without an
// os or architecture, or two images for the same platform, give an error
// wrapping [ErrInvalid]. opts is as for [NewIndex]; for a Docker manifest
// list give MediaType [MediaTypeDockerManifestList] (and Docker images).
func IndexOf(ctx context.Context, imgs []*Image, opts *Options) (*Index, error) {
	descs := make([]ocispec.Descriptor, 0, len(imgs))
	seen := map[string]int{}
	for i, img := range imgs {
		if img == nil {
			return nil, fmt.Errorf("%w: index of images: image %d is nil", ErrInvalid, i)
		}
		cfg, err := img.ConfigFile(ctx)
		if err != nil {
			return nil, fmt.Errorf("index of images: image %d (%s): %w", i, img.Descriptor().Digest, err)
		}
		p := cfg.Platform
		if p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("%w: index of images: image %d (%s) names no platform: its config has os %q and architecture %q",
				ErrInvalid, i, img.Descriptor().Digest, p.OS, p.Architecture)
		}
		key := FormatPlatform(p)
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%w: index of images: images %d and %d are both for %s", ErrInvalid, j, i, key)
		}
		seen[key] = i
		d := img.Descriptor()
		d.Platform = &p
		descs = append(descs, d)
	}
	return NewIndex(descs, opts)
}
