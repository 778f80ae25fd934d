package image

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Index is an image index (or Docker manifest list): a list of manifests,
// typically one image per platform. Build one with [NewIndex] or decode a
// pulled one with [LoadIndex]. An Index is immutable and safe for concurrent
// use.
type Index struct {
	desc  ocispec.Descriptor
	raw   []byte
	index ocispec.Index
}

// NewIndex builds an index of the given manifest descriptors, in order, and
// marshals it (schemaVersion 2, mediaType set). Each descriptor needs a
// media type, a valid digest and a non-negative size; set Platform on image
// descriptors so that [Index.Select] can choose among them. A Docker
// manifest list (opts.MediaType = [MediaTypeDockerManifestList]) has no
// artifactType or subject. Errors wrap [ErrInvalid] or
// [ErrUnsupportedMediaType]. An empty list is allowed.
func NewIndex(manifests []ocispec.Descriptor, opts *Options) (*Index, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	mt, err := buildType(o, ocispec.MediaTypeImageIndex, IsIndex)
	if err != nil {
		return nil, err
	}
	descs := make([]ocispec.Descriptor, len(manifests))
	for i, d := range manifests {
		if err := checkBuildDescriptor(fmt.Sprintf("manifests[%d]", i), d); err != nil {
			return nil, err
		}
		descs[i] = cloneDescriptor(d)
	}
	ix := ocispec.Index{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    mt,
		ArtifactType: o.ArtifactType,
		Manifests:    descs,
		Subject:      cloneSubject(o.Subject),
		Annotations:  maps.Clone(o.Annotations),
	}
	raw, err := json.Marshal(ix)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &Index{desc: manifestDescriptor(mt, digest.FromBytes(raw), raw, o.ArtifactType), raw: raw, index: ix}, nil
}

// LoadIndex decodes an index pulled from a registry, with the checks of
// [Load]: raw must hash to desc.Digest and be desc.Size bytes long (unless
// 0), else the error wraps [ErrInvalid]; desc.MediaType "" means detect; an
// image manifest or other type gives an error wrapping
// [ErrUnsupportedMediaType]. Decoding follows [ParseIndex]. LoadIndex keeps
// raw; the caller must not modify it afterwards.
func LoadIndex(desc ocispec.Descriptor, raw []byte) (*Index, error) {
	mt, err := loadType(desc, raw)
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(mt, raw)
	if err != nil {
		return nil, err
	}
	return &Index{desc: manifestDescriptor(mt, desc.Digest, raw, ix.ArtifactType), raw: raw, index: ix}, nil
}

// Descriptor returns the descriptor of the index: its media type, digest
// and size, and its artifactType field if it has one.
func (ix *Index) Descriptor() ocispec.Descriptor { return ix.desc }

// Raw returns the exact index bytes, whose digest is the index's. The slice
// is shared: the caller must not modify it.
func (ix *Index) Raw() []byte { return ix.raw }

// Index returns the decoded index (a deep copy).
func (ix *Index) Index() ocispec.Index {
	out := ix.index
	out.Manifests = cloneDescriptors(out.Manifests)
	out.Subject = cloneSubject(out.Subject)
	out.Annotations = maps.Clone(out.Annotations)
	return out
}

// Manifests returns the descriptors the index lists, in order (a copy).
func (ix *Index) Manifests() []ocispec.Descriptor { return cloneDescriptors(ix.index.Manifests) }

// Subject returns the manifest this index refers to, or nil.
func (ix *Index) Subject() *ocispec.Descriptor { return cloneSubject(ix.index.Subject) }

// Select returns the descriptor of the manifest for the wanted platform,
// as [SelectPlatform] does.
func (ix *Index) Select(want ocispec.Platform) (ocispec.Descriptor, error) {
	d, err := SelectPlatform(ix.index, want)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return cloneDescriptor(d), nil
}
