package spec

import (
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/transport"
)

// Manifest is what a registry needs to know of a manifest pushed to it.
type Manifest struct {
	// MediaType is the manifest's media type, bare ([MediaType]).
	MediaType string
	// ArtifactType is the manifest's artifactType field, if any.
	ArtifactType string
	// Config is the config of an image manifest; nil for an index.
	Config *ocispec.Descriptor
	// Layers are the layers of an image manifest.
	Layers []ocispec.Descriptor
	// Manifests are the children of an index.
	Manifests []ocispec.Descriptor
	// Subject is the manifest the manifest refers to, if any.
	Subject *ocispec.Descriptor
	// Annotations are the manifest's annotations.
	Annotations map[string]string
}

// MediaType returns the bare media type of a Content-Type: without
// parameters ("; charset=utf-8") or surrounding space, in lower case. Media
// types are case-insensitive (RFC 6838), and the distribution registry reads
// the Content-Type of a manifest push the same way (mime.ParseMediaType).
func MediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// ParseManifest checks body, a manifest pushed with the Content-Type
// mediaType, as a registry must before it stores it, and returns what the
// registry needs of it. Any failure is MANIFEST_INVALID.
//
// body must be an OCI image manifest or index, or a Docker schema 2
// manifest or manifest list, as [image.ParseManifest] and
// [image.ParseIndex] decode it. mediaType is read bare ([MediaType]); ""
// means the type the body declares or its shape says
// ([image.DetectMediaType]). Besides what package image checks (schemaVersion
// 2, valid descriptors), the rules are those of the distribution registry
// (its ocischema, schema2 and manifestlist packages):
//
//   - a mediaType field in the body must be exactly the bare media type
//     (the image spec: "when used, this field MUST contain the media type");
//     parameters or capitals there are refused, unlike in the Content-Type;
//   - an image manifest with a "manifests" field, or an index with a
//     "config" or "layers" field, is refused: such a document is ambiguous
//     (image-spec v1.0.2, advisory GHSA-77vh-xpmg-72qh), and the
//     distribution registry refuses it ("expected manifest but found
//     index" and its converse).
func ParseManifest(mediaType string, body []byte) (Manifest, error) {
	var field struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(body, &field); err != nil {
		return Manifest{}, invalid(transport.CodeManifestInvalid, fmt.Errorf("not a JSON manifest: %w", err))
	}
	mt := MediaType(mediaType)
	if mt == "" {
		detected, err := image.DetectMediaType(body)
		if err != nil {
			return Manifest{}, invalid(transport.CodeManifestInvalid, err)
		}
		mt = MediaType(detected)
	}
	if field.MediaType != "" && field.MediaType != mt {
		return Manifest{}, invalid(transport.CodeManifestInvalid,
			fmt.Errorf("the body's mediaType field is %q, not %q", field.MediaType, mt))
	}
	switch {
	case image.IsManifest(mt):
		m, err := image.ParseManifest(mt, body)
		if err != nil {
			return Manifest{}, invalid(transport.CodeManifestInvalid, err)
		}
		return Manifest{MediaType: mt, ArtifactType: m.ArtifactType, Config: &m.Config, Layers: m.Layers,
			Subject: m.Subject, Annotations: m.Annotations}, nil
	case image.IsIndex(mt):
		ix, err := image.ParseIndex(mt, body)
		if err != nil {
			return Manifest{}, invalid(transport.CodeManifestInvalid, err)
		}
		return Manifest{MediaType: mt, ArtifactType: ix.ArtifactType, Manifests: ix.Manifests,
			Subject: ix.Subject, Annotations: ix.Annotations}, nil
	}
	return Manifest{}, invalid(transport.CodeManifestInvalid, fmt.Errorf("unsupported manifest media type %q", mt))
}
