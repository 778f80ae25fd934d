package image

import (
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DiffIDCountError reports an image config whose rootfs.diff_ids do not
// list one digest per layer of the manifest: [New] refuses such an image,
// as containerd and go-containerregistry do. It matches [ErrInvalid] with
// [errors.Is].
type DiffIDCountError struct {
	// DiffIDs is the number of rootfs.diff_ids in the config.
	DiffIDs int
	// Layers is the number of layers in the manifest.
	Layers int
}

func (e *DiffIDCountError) Error() string {
	return fmt.Sprintf("%s: the config lists %d rootfs.diff_ids for %d layers", ErrInvalid, e.DiffIDs, e.Layers)
}

// Unwrap returns [ErrInvalid].
func (e *DiffIDCountError) Unwrap() error { return ErrInvalid }

// isImageConfig reports whether a manifest of type manifestType with a
// config of type configType has an image configuration (not an
// artifact's): the OCI or Docker config types, or any Docker manifest.
func isImageConfig(manifestType, configType string) bool {
	switch baseType(configType) {
	case ocispec.MediaTypeImageConfig, MediaTypeDockerConfig:
		return true
	}
	return isDocker(manifestType)
}

// rootFS is the part of an image configuration that [New] checks.
type rootFS struct {
	RootFS struct {
		DiffIDs []digest.Digest `json:"diff_ids"`
	} `json:"rootfs"`
}

// checkDiffIDs checks that an image config held in memory lists one
// diff_id per layer. A config read through an [OpenFunc] is not checked:
// New does no I/O (the image/validate package reads it).
func checkDiffIDs(manifestType string, config Blob, layers int) error {
	if config.data == nil || !isImageConfig(manifestType, config.desc.MediaType) {
		return nil
	}
	var c rootFS
	if err := json.Unmarshal(config.data, &c); err != nil {
		return fmt.Errorf("%w: image config: %w", ErrInvalid, err)
	}
	if n := len(c.RootFS.DiffIDs); n != layers {
		return &DiffIDCountError{DiffIDs: n, Layers: layers}
	}
	return nil
}

// HasImageConfig reports whether img's config is an image configuration
// (OCI or Docker, whose rootfs.diff_ids must count its layers), rather than
// the config of an artifact. Media type parameters are ignored.
func (img *Image) HasImageConfig() bool {
	return isImageConfig(img.Descriptor().MediaType, img.Manifest().Config.MediaType)
}
