package image

import (
	_ "crypto/sha256" // registers the sha256 digests of go-digest
	_ "crypto/sha512" // registers the sha384 and sha512 digests of go-digest
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParseManifest decodes an OCI image manifest or a Docker schema 2 manifest.
//
// mediaType is the type the document is said to have (a descriptor's or the
// Content-Type); "" means [DetectMediaType]. A "mediaType" field in the body
// that differs from it, a schemaVersion other than 2, a "manifests" field
// (an index masquerading as a manifest), or a descriptor with an invalid
// digest or a negative size give an error wrapping [ErrInvalid] that names
// the field ("layers[3]: invalid digest …"). Other media types, Docker
// schema 1 included, give an error wrapping [ErrUnsupportedMediaType].
func ParseManifest(mediaType string, raw []byte) (ocispec.Manifest, error) {
	p, mt, err := prepare(mediaType, raw)
	if err != nil {
		return ocispec.Manifest{}, err
	}
	if !IsManifest(mt) {
		return ocispec.Manifest{}, fmt.Errorf("%w: %q is not an image manifest", ErrUnsupportedMediaType, mt)
	}
	if p.Manifests {
		return ocispec.Manifest{}, fmt.Errorf("%w: image manifest has a manifests field", ErrInvalid)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return ocispec.Manifest{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := checkDescriptor("config", m.Config); err != nil {
		return ocispec.Manifest{}, err
	}
	for i, l := range m.Layers {
		if err := checkDescriptor(fmt.Sprintf("layers[%d]", i), l); err != nil {
			return ocispec.Manifest{}, err
		}
	}
	if m.Subject != nil {
		if err := checkDescriptor("subject", *m.Subject); err != nil {
			return ocispec.Manifest{}, err
		}
	}
	return m, nil
}

// ParseIndex decodes an OCI image index or a Docker manifest list, with the
// same rules as [ParseManifest]: mediaType "" means detect; a mismatched
// "mediaType" field, a schemaVersion other than 2, a "config" or "layers"
// field, or an invalid descriptor give an error wrapping [ErrInvalid];
// other media types give one wrapping [ErrUnsupportedMediaType].
func ParseIndex(mediaType string, raw []byte) (ocispec.Index, error) {
	p, mt, err := prepare(mediaType, raw)
	if err != nil {
		return ocispec.Index{}, err
	}
	if !IsIndex(mt) {
		return ocispec.Index{}, fmt.Errorf("%w: %q is not an image index", ErrUnsupportedMediaType, mt)
	}
	if p.Config || p.Layers {
		return ocispec.Index{}, fmt.Errorf("%w: image index has a config or layers field", ErrInvalid)
	}
	var ix ocispec.Index
	if err := json.Unmarshal(raw, &ix); err != nil {
		return ocispec.Index{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for i, d := range ix.Manifests {
		if err := checkDescriptor(fmt.Sprintf("manifests[%d]", i), d); err != nil {
			return ocispec.Index{}, err
		}
	}
	if ix.Subject != nil {
		if err := checkDescriptor("subject", *ix.Subject); err != nil {
			return ocispec.Index{}, err
		}
	}
	return ix, nil
}

// prepare decodes the shape of raw and settles its media type: the given one
// (which the body must not contradict) or the detected one. For the
// manifest types it also checks schemaVersion.
func prepare(mediaType string, raw []byte) (probe, string, error) {
	p, err := readProbe(raw)
	if err != nil {
		return probe{}, "", err
	}
	mt := baseType(mediaType)
	if mt == "" {
		if mt, err = p.detect(); err != nil {
			return probe{}, "", err
		}
		mt = baseType(mt)
	} else if p.MediaType != "" && baseType(p.MediaType) != mt {
		return probe{}, "", fmt.Errorf("%w: body says mediaType %q, expected %q", ErrInvalid, p.MediaType, mt)
	}
	if (IsManifest(mt) || IsIndex(mt)) && p.SchemaVersion != 2 {
		return probe{}, "", fmt.Errorf("%w: schemaVersion %d, want 2", ErrInvalid, p.SchemaVersion)
	}
	return p, mt, nil
}

// checkDescriptor checks what every descriptor needs: a valid digest of an
// available algorithm and a non-negative size. field names the descriptor in
// the error.
func checkDescriptor(field string, d ocispec.Descriptor) error {
	if _, err := digest.Parse(string(d.Digest)); err != nil {
		return fmt.Errorf("%w: %s: invalid digest %q: %w", ErrInvalid, field, d.Digest, err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: %s: negative size %d", ErrInvalid, field, d.Size)
	}
	return nil
}

// checkBuildDescriptor is checkDescriptor plus a media type, which a
// descriptor that this package writes must have.
func checkBuildDescriptor(field string, d ocispec.Descriptor) error {
	if err := checkDescriptor(field, d); err != nil {
		return err
	}
	if d.MediaType == "" {
		return fmt.Errorf("%w: %s: no mediaType", ErrInvalid, field)
	}
	return nil
}

// schema1 is the part of a Docker schema 1 manifest that names blobs.
type schema1 struct {
	FSLayers []struct {
		BlobSum digest.Digest `json:"blobSum"`
	} `json:"fsLayers"`
}

// Children returns every descriptor the document references, and its
// subject if it has one: the config then the layers of an image manifest, or
// the manifests of an index. mediaType "" means [DetectMediaType].
//
// For Docker schema 1 (signed or not) the references are the blobSums of
// fsLayers, in document order and with repeats, as [MediaTypeDockerLayer]
// descriptors of unknown size (-1); schema 1 has no subject.
//
// Errors are those of [ParseManifest] and [ParseIndex].
func Children(mediaType string, raw []byte) (refs []ocispec.Descriptor, subject *ocispec.Descriptor, err error) {
	mt := baseType(mediaType)
	if mt == "" {
		if mt, err = DetectMediaType(raw); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case IsManifest(mt):
		m, err := ParseManifest(mt, raw)
		if err != nil {
			return nil, nil, err
		}
		refs = make([]ocispec.Descriptor, 0, 1+len(m.Layers))
		refs = append(refs, m.Config)
		return append(refs, m.Layers...), m.Subject, nil
	case IsIndex(mt):
		ix, err := ParseIndex(mt, raw)
		if err != nil {
			return nil, nil, err
		}
		return ix.Manifests, ix.Subject, nil
	case isSchema1(mt):
		return schema1Children(raw)
	}
	return nil, nil, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, mt)
}

// schema1Children lists the blobs of a Docker schema 1 manifest.
func schema1Children(raw []byte) ([]ocispec.Descriptor, *ocispec.Descriptor, error) {
	p, err := readProbe(raw)
	if err != nil {
		return nil, nil, err
	}
	if p.SchemaVersion != 1 {
		return nil, nil, fmt.Errorf("%w: schemaVersion %d, want 1", ErrInvalid, p.SchemaVersion)
	}
	var m schema1
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	refs := make([]ocispec.Descriptor, len(m.FSLayers))
	for i, l := range m.FSLayers {
		refs[i] = ocispec.Descriptor{MediaType: MediaTypeDockerLayer, Digest: l.BlobSum, Size: -1}
		if _, err := digest.Parse(string(l.BlobSum)); err != nil {
			return nil, nil, fmt.Errorf("%w: fsLayers[%d]: invalid blobSum %q: %w", ErrInvalid, i, l.BlobSum, err)
		}
	}
	return refs, nil, nil
}
