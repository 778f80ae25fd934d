package validate

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Kind is what is wrong with a layer.
type Kind int

const (
	// Unreadable: the layer could not be read (a missing blob, a
	// registry's error, a verifying reader's refusal); Err says why.
	Unreadable Kind = iota + 1
	// SizeMismatch: the layer's bytes are not as many as its descriptor
	// says.
	SizeMismatch
	// DigestMismatch: the layer's bytes do not hash to its descriptor's
	// digest.
	DigestMismatch
	// MediaTypeMismatch: the media type is not a layer type, or the bytes
	// do not decompress as it says (a "tar+gzip" layer that is not gzip).
	MediaTypeMismatch
	// NotTar: the decompressed bytes are not a tar archive.
	NotTar
	// DiffIDMismatch: the uncompressed tar does not hash to the diff_id
	// the config names for the layer.
	DiffIDMismatch
)

// String names the kind: "unreadable", "size", "digest", "media type",
// "not a tar", "diff_id".
func (k Kind) String() string {
	switch k {
	case Unreadable:
		return "unreadable"
	case SizeMismatch:
		return "size"
	case DigestMismatch:
		return "digest"
	case MediaTypeMismatch:
		return "media type"
	case NotTar:
		return "not a tar"
	case DiffIDMismatch:
		return "diff_id"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// LayerError says which layer of an image is wrong, and how.
type LayerError struct {
	// Index is the layer's position in the manifest, from 0.
	Index int
	// Digest is the layer's digest as the manifest names it.
	Digest digest.Digest
	// Kind is what is wrong.
	Kind Kind
	// Want is what the manifest or the config says (a size, a digest, a
	// diff_id, a media type); Got what the content gives. Either may be ""
	// when it does not apply.
	Want, Got string
	// Err is the underlying error, if any.
	Err error
}

func (e *LayerError) Error() string {
	s := fmt.Sprintf("layer %d (%s): %s", e.Index, e.Digest, e.Kind)
	if e.Want != "" || e.Got != "" {
		s += fmt.Sprintf(": want %s, got %s", e.Want, e.Got)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *LayerError) Unwrap() error { return e.Err }

// ChildError says which manifest of an index failed validation.
type ChildError struct {
	// Index is the child's position in the index, from 0.
	Index int
	// Descriptor is the child's descriptor in the index.
	Descriptor ocispec.Descriptor
	// Err is what is wrong with it.
	Err error
}

func (e *ChildError) Error() string {
	return fmt.Sprintf("manifest %d (%s): %v", e.Index, e.Descriptor.Digest, e.Err)
}

// Unwrap returns the child's error.
func (e *ChildError) Unwrap() error { return e.Err }
