package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker media types that image-spec does not declare. The OCI media types
// are the ocispec.MediaType* constants of
// github.com/opencontainers/image-spec/specs-go/v1.
const (
	// MediaTypeDockerManifest is the Docker image manifest, schema 2.
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// MediaTypeDockerManifestList is the Docker manifest list, the Docker
	// counterpart of the OCI image index.
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// MediaTypeDockerSchema1 is the legacy, unsigned Docker schema 1
	// manifest. It is recognised but not decoded.
	MediaTypeDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
	// MediaTypeDockerSchema1Signed is the legacy Docker schema 1 manifest
	// with a JWS signature. It is recognised but not decoded.
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	// MediaTypeDockerConfig is the Docker image configuration.
	MediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"
	// MediaTypeDockerLayer is a gzip-compressed Docker layer.
	MediaTypeDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	// MediaTypeDockerForeignLayer is a gzip-compressed Docker layer that
	// registries do not distribute (Windows base layers).
	MediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// IsIndex reports whether mediaType is an OCI image index or a Docker
// manifest list. Parameters such as "; charset=utf-8" are ignored.
func IsIndex(mediaType string) bool {
	switch baseType(mediaType) {
	case ocispec.MediaTypeImageIndex, MediaTypeDockerManifestList:
		return true
	}
	return false
}

// IsManifest reports whether mediaType is an OCI image manifest or a Docker
// schema 2 image manifest. Parameters such as "; charset=utf-8" are ignored.
func IsManifest(mediaType string) bool {
	switch baseType(mediaType) {
	case ocispec.MediaTypeImageManifest, MediaTypeDockerManifest:
		return true
	}
	return false
}

// isSchema1 reports whether mediaType is one of the Docker schema 1 types.
func isSchema1(mediaType string) bool {
	switch baseType(mediaType) {
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed:
		return true
	}
	return false
}

// isDocker reports whether mediaType is a Docker schema 2 manifest or list.
func isDocker(mediaType string) bool {
	mt := baseType(mediaType)
	return mt == MediaTypeDockerManifest || mt == MediaTypeDockerManifestList
}

// baseType drops media type parameters, surrounding space and case, as a
// Content-Type header may carry them.
func baseType(mediaType string) string {
	mt, _, _ := strings.Cut(mediaType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// present records whether a JSON field appeared, whatever its value.
type present bool

// UnmarshalJSON marks the field as present without decoding it.
func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}

// probe is the shape of any manifest-like document, enough to tell which
// kind it is.
type probe struct {
	SchemaVersion int     `json:"schemaVersion"`
	MediaType     string  `json:"mediaType"`
	Manifests     present `json:"manifests"`
	Config        present `json:"config"`
	Layers        present `json:"layers"`
	FSLayers      present `json:"fsLayers"`
	Signatures    present `json:"signatures"`
}

// readProbe decodes the shape of raw, failing with ErrInvalid when raw is
// not a JSON object.
func readProbe(raw []byte) (probe, error) {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return probe{}, fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return probe{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return p, nil
}

// DetectMediaType returns the media type of a manifest document. It is the
// document's "mediaType" field when set. Otherwise the shape decides: with
// schemaVersion 2, a "manifests" field means an OCI image index and a
// "config" field an OCI image manifest; schemaVersion 1 means Docker
// schema 1 (signed when it has "signatures"). An image configuration, which
// has a "config" but no schemaVersion, is not mistaken for a manifest.
//
// Bytes that are not a JSON object give an error wrapping [ErrInvalid]; a
// JSON object of no known shape gives one wrapping [ErrUnsupportedMediaType].
func DetectMediaType(raw []byte) (string, error) {
	p, err := readProbe(raw)
	if err != nil {
		return "", err
	}
	return p.detect()
}

// detect implements DetectMediaType on a decoded probe.
func (p probe) detect() (string, error) {
	switch {
	case p.MediaType != "":
		return p.MediaType, nil
	case p.SchemaVersion == 1 && bool(p.Signatures):
		return MediaTypeDockerSchema1Signed, nil
	case p.SchemaVersion == 1:
		return MediaTypeDockerSchema1, nil
	case p.SchemaVersion == 2 && bool(p.Manifests):
		return ocispec.MediaTypeImageIndex, nil
	case p.SchemaVersion == 2 && bool(p.Config):
		return ocispec.MediaTypeImageManifest, nil
	}
	return "", fmt.Errorf("%w: no mediaType field and no known shape (schemaVersion %d)", ErrUnsupportedMediaType, p.SchemaVersion)
}

// ociLayerPrefix starts every OCI layer media type, which a Docker
// manifest cannot list.
const ociLayerPrefix = "application/vnd.oci.image.layer."
