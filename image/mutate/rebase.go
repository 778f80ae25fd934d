package mutate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// ErrNotOnBase is what [Rebase] returns, wrapped, when the image is not
// built on the old base: its first layers, or their diff_ids, are not the
// old base's.
var ErrNotOnBase = errors.New("the image is not built on the old base")

// Rebase returns img with the layers of oldBase under it replaced by those
// of newBase: newBase's layers followed by img's own (those above
// oldBase's). The config is img's (Env, Entrypoint, Labels, ... stay), with
// newBase's rootfs.diff_ids, history and platform (os, architecture,
// variant, os.version) under img's own ones; edit (nil for none) then
// changes it as in [Append]. The manifest keeps img's media type and
// annotations.
//
// Rebase reads the three configs and no layer; pushing the result moves
// only what the destination lacks, as for [Append]. It fails with an
// error wrapping [ErrNotOnBase] when img's first layers or diff_ids are
// not oldBase's, and wrapping [image.ErrInvalid] when a config does not
// list one diff_id per layer. Whether the new base suits img's own layers
// (same distribution, same libraries) is the caller's judgement.
func Rebase(ctx context.Context, img, oldBase, newBase *image.Image, edit Edit) (*image.Image, error) {
	d := img.Descriptor().Digest
	var cfgs [3]config
	for i, m := range []*image.Image{img, oldBase, newBase} {
		c, err := readConfig(ctx, m)
		if err == nil {
			err = checkDiffIDs("", c.typed, len(m.Layers()))
		}
		if err != nil {
			return nil, fmt.Errorf("rebase %s: %s: %w", d, m.Descriptor().Digest, err)
		}
		cfgs[i] = c
	}
	cfg, oldCfg, newCfg := cfgs[0], cfgs[1].typed, cfgs[2].typed
	layers, oldLayers := img.Layers(), oldBase.Layers()
	if !isBase(layers, oldLayers) || !slices.Equal(cfg.typed.RootFS.DiffIDs[:len(oldLayers)], oldCfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("rebase %s: %w %s", d, ErrNotOnBase, oldBase.Descriptor().Digest)
	}
	c := &cfg.typed
	c.RootFS.DiffIDs = append(slices.Clone(newCfg.RootFS.DiffIDs), c.RootFS.DiffIDs[len(oldLayers):]...)
	own := ownHistory(c.History, oldCfg.History, len(oldLayers))
	c.History = slices.Clone(newCfg.History)
	c.OS, c.Architecture, c.Variant, c.OSVersion = newCfg.OS, newCfg.Architecture, newCfg.Variant, newCfg.OSVersion
	c.OSFeatures = slices.Clone(newCfg.OSFeatures)
	newLayers := newBase.Layers()
	padHistory(c, len(newLayers))
	c.History = append(c.History, own...)
	blobs := append(newLayers, layers[len(oldLayers):]...)
	padHistory(c, len(blobs))
	return finish(ctx, img, cfg, blobs, edit)
}

// isBase reports whether base's layers are the first of layers.
func isBase(layers, base []image.Blob) bool {
	if len(base) > len(layers) {
		return false
	}
	for i, b := range base {
		if layers[i].Descriptor().Digest != b.Descriptor().Digest {
			return false
		}
	}
	return true
}

// ownHistory returns the entries of history (the image's) above those of
// its base, whose history is base and whose layers number baseLayers.
// When history starts with base (as [Append] makes it), those are
// base's entries, its trailing empty_layer ones (ENV, CMD) included.
// Otherwise they are the entries up to that of the last base layer; none
// when the history has too few entries with a layer to tell (Rebase then
// pads it).
func ownHistory(history, base []ocispec.History, baseLayers int) []ocispec.History {
	if len(base) > 0 && len(base) <= len(history) && reflect.DeepEqual(history[:len(base)], base) {
		return slices.Clone(history[len(base):])
	}
	if baseLayers == 0 {
		return slices.Clone(history)
	}
	n := 0
	for i, h := range history {
		if !h.EmptyLayer {
			n++
		}
		if n == baseLayers {
			return slices.Clone(history[i+1:])
		}
	}
	return nil
}
