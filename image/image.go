package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxConfigSize bounds what [Image.ConfigFile] reads: 8 MiB.
const maxConfigSize = 8 << 20

// Options are the optional settings of [New] and [NewIndex]. A nil *Options
// means the defaults of each field; the functions never modify it.
type Options struct {
	// MediaType is the media type of the manifest. "" means the OCI type
	// (ocispec.MediaTypeImageManifest for New, ocispec.MediaTypeImageIndex
	// for NewIndex); the Docker types are [MediaTypeDockerManifest] and
	// [MediaTypeDockerManifestList].
	MediaType string

	// ArtifactType is the OCI 1.1 artifactType of the manifest. It is
	// required when the config is the empty descriptor
	// (ocispec.DescriptorEmptyJSON), and not allowed with a Docker type.
	ArtifactType string

	// Subject, if set, is the manifest this one refers to (for referrers:
	// signatures, SBOMs, attestations). Not allowed with a Docker type.
	Subject *ocispec.Descriptor

	// Annotations are the manifest's annotations; nil means none.
	Annotations map[string]string
}

// Image is an image manifest with the blobs it references: built with [New]
// or pulled and decoded with [Load]. An Image is immutable and safe for
// concurrent use; it is addressed by the digest of its exact manifest bytes.
type Image struct {
	desc     ocispec.Descriptor
	raw      []byte
	manifest ocispec.Manifest
	config   Blob
	layers   []Blob
}

// New builds an image manifest from a config and layers, in that order,
// and marshals it (schemaVersion 2, mediaType set). It checks that each
// descriptor has a media type, a valid digest and a non-negative size, and
// that the options fit the media type (a Docker manifest has no artifactType
// or subject; an empty config needs an artifactType; a Docker manifest
// lists no OCI layer type, such as application/vnd.oci.image.layer.v1.tar+gzip,
// which Docker-strict consumers refuse: give such layers their Docker type
// with [Blob.WithMediaType]). Errors wrap
// [ErrInvalid] or [ErrUnsupportedMediaType]. No layers is allowed, as
// artifacts often have none.
//
// An image config (the OCI or Docker config media type, or any config of a
// Docker manifest) whose bytes are in memory ([BytesBlob], a [Builder]'s)
// must list one rootfs.diff_id per layer: otherwise the error is a
// [*DiffIDCountError] naming both counts. Configs of other media types
// (artifacts) are not read. New does no I/O: a config given through
// [NewBlob] is not read, and a layer's diff_id is not checked against its
// content; the image/validate package checks both.
func New(config Blob, layers []Blob, opts *Options) (*Image, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	mt, err := buildType(o, ocispec.MediaTypeImageManifest, IsManifest)
	if err != nil {
		return nil, err
	}
	cfg := config.Descriptor()
	if err := checkBuildDescriptor("config", cfg); err != nil {
		return nil, err
	}
	if cfg.MediaType == ocispec.MediaTypeEmptyJSON && o.ArtifactType == "" {
		return nil, fmt.Errorf("%w: an empty config needs an artifactType", ErrInvalid)
	}
	descs := make([]ocispec.Descriptor, len(layers))
	for i, l := range layers {
		descs[i] = l.Descriptor()
		if err := checkBuildDescriptor(fmt.Sprintf("layers[%d]", i), descs[i]); err != nil {
			return nil, err
		}
		if mt == MediaTypeDockerManifest && strings.HasPrefix(baseType(descs[i].MediaType), ociLayerPrefix) {
			return nil, fmt.Errorf("%w: layers[%d]: a Docker manifest cannot list the OCI layer type %s", ErrInvalid, i, descs[i].MediaType)
		}
	}
	if err := checkDiffIDs(mt, config, len(layers)); err != nil {
		return nil, err
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    mt,
		ArtifactType: o.ArtifactType,
		Config:       cfg,
		Layers:       descs,
		Subject:      cloneSubject(o.Subject),
		Annotations:  maps.Clone(o.Annotations),
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &Image{
		desc:     manifestDescriptor(mt, digest.FromBytes(raw), raw, o.ArtifactType),
		raw:      raw,
		manifest: m,
		config:   Blob{desc: cfg, open: config.open, data: config.data},
		layers:   append([]Blob(nil), layers...),
	}, nil
}

// buildType checks the options shared by New and NewIndex and returns the
// manifest media type to write.
func buildType(o Options, def string, ok func(string) bool) (string, error) {
	mt := baseType(o.MediaType)
	if mt == "" {
		mt = def
	}
	if !ok(mt) {
		return "", fmt.Errorf("%w: cannot build %q", ErrUnsupportedMediaType, o.MediaType)
	}
	if isDocker(mt) && (o.ArtifactType != "" || o.Subject != nil) {
		return "", fmt.Errorf("%w: %s has no artifactType or subject", ErrInvalid, mt)
	}
	if o.Subject != nil {
		if err := checkBuildDescriptor("subject", *o.Subject); err != nil {
			return "", err
		}
	}
	return mt, nil
}

// manifestDescriptor describes manifest bytes of digest d.
func manifestDescriptor(mediaType string, d digest.Digest, raw []byte, artifactType string) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType:    mediaType,
		Digest:       d,
		Size:         int64(len(raw)),
		ArtifactType: artifactType,
	}
}

// Load decodes an image manifest pulled from a registry. desc is the
// descriptor it was pulled by: raw must hash to desc.Digest, and be
// desc.Size bytes long unless desc.Size is 0, or the error wraps
// [ErrInvalid]. desc.MediaType "" means [DetectMediaType]. The document must
// be an OCI image manifest or a Docker schema 2 manifest; anything else
// (an index included: see [LoadIndex]) gives an error wrapping
// [ErrUnsupportedMediaType]. Decoding follows [ParseManifest].
//
// The image's blobs open through fetch, except those whose descriptor embeds
// matching data. With a nil fetch the other blobs cannot be opened.
// Load keeps raw; the caller must not modify it afterwards.
//
// Load does not read the config: an image whose config's rootfs.diff_ids
// do not match its layers loads (a registry may hold one, and copying it
// should not fail). Check the content with the image/validate package.
func Load(desc ocispec.Descriptor, raw []byte, fetch FetchFunc) (*Image, error) {
	mt, err := loadType(desc, raw)
	if err != nil {
		return nil, err
	}
	if IsIndex(mt) {
		return nil, fmt.Errorf("%w: %s is an index, not an image (use LoadIndex)", ErrUnsupportedMediaType, mt)
	}
	m, err := ParseManifest(mt, raw)
	if err != nil {
		return nil, err
	}
	img := &Image{
		desc:     manifestDescriptor(mt, desc.Digest, raw, m.ArtifactType),
		raw:      raw,
		manifest: m,
		config:   fetchedBlob(m.Config, fetch),
		layers:   make([]Blob, len(m.Layers)),
	}
	for i, l := range m.Layers {
		img.layers[i] = fetchedBlob(l, fetch)
	}
	return img, nil
}

// loadType verifies raw against desc and returns the media type to decode
// it as.
func loadType(desc ocispec.Descriptor, raw []byte) (string, error) {
	if err := checkDescriptor("descriptor", desc); err != nil {
		return "", err
	}
	if desc.Size != 0 && desc.Size != int64(len(raw)) {
		return "", fmt.Errorf("%w: %d bytes, descriptor says %d", ErrInvalid, len(raw), desc.Size)
	}
	if got := desc.Digest.Algorithm().FromBytes(raw); got != desc.Digest {
		return "", fmt.Errorf("%w: bytes hash to %s, descriptor says %s", ErrInvalid, got, desc.Digest)
	}
	if mt := baseType(desc.MediaType); mt != "" {
		return mt, nil
	}
	mt, err := DetectMediaType(raw)
	return baseType(mt), err
}

// Descriptor returns the descriptor of the image's manifest: its media
// type, digest and size, and its artifactType field if it has one.
func (img *Image) Descriptor() ocispec.Descriptor { return img.desc }

// Raw returns the exact manifest bytes, whose digest is the image's. The
// slice is shared: the caller must not modify it.
func (img *Image) Raw() []byte { return img.raw }

// Manifest returns the decoded manifest (a deep copy).
func (img *Image) Manifest() ocispec.Manifest {
	m := img.manifest
	m.Config = cloneDescriptor(m.Config)
	m.Layers = cloneDescriptors(m.Layers)
	m.Subject = cloneSubject(m.Subject)
	m.Annotations = maps.Clone(m.Annotations)
	return m
}

// Config returns the config blob.
func (img *Image) Config() Blob { return img.config }

// Layers returns the layer blobs, in manifest order, in a new slice.
func (img *Image) Layers() []Blob { return append([]Blob(nil), img.layers...) }

// Blobs returns every blob of the image, config first and then the layers,
// which is the order to upload them in before the manifest.
func (img *Image) Blobs() []Blob {
	return append([]Blob{img.config}, img.layers...)
}

// Subject returns the manifest this one refers to, or nil.
func (img *Image) Subject() *ocispec.Descriptor { return cloneSubject(img.manifest.Subject) }

// ArtifactType returns the manifest's artifactType field if set; otherwise
// the config's media type when the config is not an image config (the
// pre-OCI 1.1 way to type an artifact); otherwise "". Docker schema 2
// images always have an image config, so theirs is "".
func (img *Image) ArtifactType() string {
	if img.manifest.ArtifactType != "" {
		return img.manifest.ArtifactType
	}
	if img.hasImageConfig() {
		return ""
	}
	return img.manifest.Config.MediaType
}

// hasImageConfig reports whether the config blob is an image configuration.
func (img *Image) hasImageConfig() bool {
	switch img.manifest.Config.MediaType {
	case ocispec.MediaTypeImageConfig, MediaTypeDockerConfig:
		return true
	}
	return isDocker(img.desc.MediaType)
}

// ConfigFile reads and decodes the image configuration. It reads at most
// 8 MiB and checks the bytes against the config descriptor (error wrapping
// [ErrInvalid]). A config that is not an image configuration (an
// artifact's) gives an error wrapping [ErrUnsupportedMediaType].
func (img *Image) ConfigFile(ctx context.Context) (ocispec.Image, error) {
	d := img.manifest.Config
	if !img.hasImageConfig() {
		return ocispec.Image{}, fmt.Errorf("read config: %w: %q is not an image config", ErrUnsupportedMediaType, d.MediaType)
	}
	if d.Size > maxConfigSize {
		return ocispec.Image{}, fmt.Errorf("read config: %w: %d bytes is over the %d byte limit", ErrInvalid, d.Size, maxConfigSize)
	}
	rc, err := img.config.Open(ctx)
	if err != nil {
		return ocispec.Image{}, fmt.Errorf("read config: %w", err)
	}
	defer rc.Close()
	p, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return ocispec.Image{}, fmt.Errorf("read config %s: %w", d.Digest, err)
	}
	if int64(len(p)) != d.Size || d.Digest.Algorithm().FromBytes(p) != d.Digest {
		return ocispec.Image{}, fmt.Errorf("read config %s: %w: content does not match the descriptor", d.Digest, ErrInvalid)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(p, &cfg); err != nil {
		return ocispec.Image{}, fmt.Errorf("read config %s: %w: %w", d.Digest, ErrInvalid, err)
	}
	return cfg, nil
}
