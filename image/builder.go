package image

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Builder assembles an image: its layers, and an image config whose
// rootfs.diff_ids and history follow them. Each layer is added with
// [Builder.AddLayer] as a pair: its [Blob] (the compressed bytes the
// manifest names) and its diff_id (the digest of its uncompressed tar),
// which is what the image/layer builders return. The setters cover the
// fields people set; [Builder.Image] marshals the config and calls [New].
//
//	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
//	b.SetEntrypoint("/app")
//	b.SetEnv("PATH", "/usr/bin:/bin")
//	b.AddLayer(blob, diffID, "COPY app /app")
//	img, err := b.Image(nil)
//
// The zero Builder is not usable; a Builder is not safe for concurrent use.
//
// A Builder makes images from scratch. To add layers to an existing image
// (a base pulled from a registry), use the image/mutate package's Append,
// which keeps the keys of the base config that ocispec.Image does not
// model and keeps the history in step with the layers.
type Builder struct {
	cfg    ocispec.Image
	layers []Blob
}

// NewBuilder returns a Builder for an image of no layers, for platform p
// (os and architecture are required, variant and os.version optional).
// The config has no creation time unless [Builder.SetCreated] sets one, so
// that the same inputs give the same digest.
func NewBuilder(p ocispec.Platform) *Builder {
	b := &Builder{}
	b.cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}
	b.SetPlatform(p)
	return b
}

// cloneConfig returns a deep copy of c.
func cloneConfig(c ocispec.Image) (ocispec.Image, error) {
	p, err := json.Marshal(c)
	if err != nil {
		return ocispec.Image{}, fmt.Errorf("%w: image config: %w", ErrInvalid, err)
	}
	var out ocispec.Image
	if err := json.Unmarshal(p, &out); err != nil {
		return ocispec.Image{}, fmt.Errorf("%w: image config: %w", ErrInvalid, err)
	}
	return out, nil
}

// SetPlatform sets the config's os, architecture, variant, os.version and
// os.features.
func (b *Builder) SetPlatform(p ocispec.Platform) {
	b.cfg.Platform = ocispec.Platform{
		OS:           p.OS,
		Architecture: p.Architecture,
		Variant:      p.Variant,
		OSVersion:    p.OSVersion,
		OSFeatures:   slices.Clone(p.OSFeatures),
	}
}

// SetCreated sets the config's creation time, also used as the creation
// time of the history entries of layers added afterwards. The zero time
// removes it.
func (b *Builder) SetCreated(t time.Time) {
	if t.IsZero() {
		b.cfg.Created = nil
		return
	}
	t = t.UTC()
	b.cfg.Created = &t
}

// SetEnv sets the environment variable key to value, replacing an earlier
// value of key (a base image's PATH, say) in place, or adding it at the
// end.
func (b *Builder) SetEnv(key, value string) {
	kv := key + "=" + value
	for i, e := range b.cfg.Config.Env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			b.cfg.Config.Env[i] = kv
			return
		}
	}
	b.cfg.Config.Env = append(b.cfg.Config.Env, kv)
}

// SetEntrypoint sets the entrypoint; no arguments removes it.
func (b *Builder) SetEntrypoint(args ...string) { b.cfg.Config.Entrypoint = slices.Clone(args) }

// SetCmd sets the default arguments (the command, without an entrypoint);
// no arguments removes them.
func (b *Builder) SetCmd(args ...string) { b.cfg.Config.Cmd = slices.Clone(args) }

// SetWorkingDir sets the working directory of the container's process.
func (b *Builder) SetWorkingDir(dir string) { b.cfg.Config.WorkingDir = dir }

// SetUser sets the user (and optionally group) the process runs as: "app",
// "1000", "1000:1000".
func (b *Builder) SetUser(user string) { b.cfg.Config.User = user }

// SetLabel sets the label key to value.
func (b *Builder) SetLabel(key, value string) {
	if b.cfg.Config.Labels == nil {
		b.cfg.Config.Labels = map[string]string{}
	}
	b.cfg.Config.Labels[key] = value
}

// ExposePort adds an exposed port, "8080/tcp" or "53/udp"; a port without
// a protocol ("8080") is tcp.
func (b *Builder) ExposePort(port string) {
	if !strings.Contains(port, "/") {
		port += "/tcp"
	}
	if b.cfg.Config.ExposedPorts == nil {
		b.cfg.Config.ExposedPorts = map[string]struct{}{}
	}
	b.cfg.Config.ExposedPorts[port] = struct{}{}
}

// AddVolume adds a volume: a directory of the container meant to be
// mounted.
func (b *Builder) AddVolume(path string) {
	if b.cfg.Config.Volumes == nil {
		b.cfg.Config.Volumes = map[string]struct{}{}
	}
	b.cfg.Config.Volumes[path] = struct{}{}
}

// AddLayer adds a layer on top of the others: blob is its content as the
// manifest names it (compressed or not), diffID the digest of its
// uncompressed tar, and createdBy what made it ("COPY app /app"; it may be
// ""), recorded in a history entry. The diffID is appended to
// rootfs.diff_ids; it is checked against the content only by validation
// (the image/validate package), as the Builder does no I/O.
func (b *Builder) AddLayer(blob Blob, diffID digest.Digest, createdBy string) {
	b.layers = append(b.layers, blob)
	b.cfg.RootFS.DiffIDs = append(b.cfg.RootFS.DiffIDs, diffID)
	// A Builder starts with no history and adds no empty_layer entries:
	// its history has one entry per layer, in order.
	b.cfg.History = append(b.cfg.History, ocispec.History{Created: b.cfg.Created, CreatedBy: createdBy})
}

// Config returns the image config as it stands (a copy).
func (b *Builder) Config() ocispec.Image {
	c, _ := cloneConfig(b.cfg) // it round-trips: only values from ocispec
	return c
}

// Layers returns the layers added so far, in order.
func (b *Builder) Layers() []Blob { return slices.Clone(b.layers) }

// Image marshals the config and builds the image with [New]. The config's
// media type is the OCI one, or the Docker one when opts asks for a
// Docker manifest. The config must name
// an os and an architecture, and each diff_id must be a valid digest, or
// the error wraps [ErrInvalid].
func (b *Builder) Image(opts *Options) (*Image, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if b.cfg.OS == "" || b.cfg.Architecture == "" {
		return nil, fmt.Errorf("%w: image config: os and architecture are required", ErrInvalid)
	}
	for i, d := range b.cfg.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("%w: diff_ids[%d]: %w", ErrInvalid, i, err)
		}
	}
	p, err := json.Marshal(b.cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: image config: %w", ErrInvalid, err)
	}
	mt := ocispec.MediaTypeImageConfig
	if isDocker(o.MediaType) {
		mt = MediaTypeDockerConfig
	}
	return New(BytesBlob(mt, p), b.layers, &o)
}
