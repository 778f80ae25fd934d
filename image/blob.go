package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// OpenFunc opens the bytes of a blob. Each call returns a new reader, which
// the caller closes.
type OpenFunc func(ctx context.Context) (io.ReadCloser, error)

// FetchFunc opens a blob by its descriptor. [Load] uses it to give a pulled
// image blobs that read from the registry; a repository supplies one that
// verifies what it reads against the descriptor.
type FetchFunc func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)

// Blob is content an image refers to (its config or one of its layers): its
// descriptor, and how to open its bytes. The zero Blob has an empty
// descriptor and cannot be opened. A Blob is a small value; copy it freely.
type Blob struct {
	src  *Source // where a pulled blob is stored; nil if not pulled
	desc ocispec.Descriptor
	open OpenFunc
	// data holds the bytes when they are in memory and match desc
	// (BytesBlob, embedded data); nil otherwise. It lets [New] check an
	// image config without I/O.
	data []byte
}

// errNoContent is returned by Open on a Blob that has no way to read.
var errNoContent = errors.New("blob has no content source")

// NewBlob returns a Blob for content whose descriptor is already known
// (digest, size and media type), read through open. NewBlob does not read
// the content or check it against desc: [New] checks the descriptor's form,
// and the registry checks the bytes on upload.
func NewBlob(desc ocispec.Descriptor, open OpenFunc) Blob {
	return Blob{desc: cloneDescriptor(desc), open: open}
}

// BytesBlob returns a Blob holding a copy of p, with its sha256 digest and
// size computed and the given media type. It suits configs and small layers;
// stream large content with [NewBlob].
func BytesBlob(mediaType string, p []byte) Blob {
	data := bytes.Clone(p)
	if data == nil {
		data = []byte{}
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	return Blob{desc: desc, open: bytesOpener(data), data: data}
}

// bytesOpener returns an OpenFunc over p, which must not change afterwards.
func bytesOpener(p []byte) OpenFunc {
	return func(ctx context.Context) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(p)), nil
	}
}

// Descriptor returns the blob's descriptor (a copy).
func (b Blob) Descriptor() ocispec.Descriptor {
	return cloneDescriptor(b.desc)
}

// WithMediaType returns a copy of b whose descriptor has media type mt;
// the bytes, digest and size, and where the blob was pulled from, stay.
// It suits a layer whose bytes fit another media type family (an OCI
// tar+gzip layer is a Docker rootfs.diff.tar.gzip layer).
func (b Blob) WithMediaType(mt string) Blob {
	b.desc = cloneDescriptor(b.desc)
	b.desc.MediaType = mt
	return b
}

// Open returns a reader over the blob's bytes; the caller closes it. A zero
// Blob, or one made without an OpenFunc, returns an error.
func (b Blob) Open(ctx context.Context) (io.ReadCloser, error) {
	if b.open == nil {
		return nil, fmt.Errorf("open %s: %w", b.desc.Digest, errNoContent)
	}
	return b.open(ctx)
}

// fetchedBlob returns a Blob of a pulled image: embedded data when the
// descriptor carries verified data, else fetch.
func fetchedBlob(desc ocispec.Descriptor, fetch FetchFunc) Blob {
	desc = cloneDescriptor(desc)
	if len(desc.Data) > 0 && int64(len(desc.Data)) == desc.Size && desc.Digest.Validate() == nil &&
		desc.Digest.Algorithm().FromBytes(desc.Data) == desc.Digest {
		return Blob{desc: desc, open: bytesOpener(desc.Data), data: desc.Data}
	}
	if fetch == nil {
		return Blob{desc: desc}
	}
	d := cloneDescriptor(desc)
	return Blob{desc: desc, open: func(ctx context.Context) (io.ReadCloser, error) {
		return fetch(ctx, d)
	}}
}

// cloneDescriptor returns a copy of d that shares no slices or maps with it.
func cloneDescriptor(d ocispec.Descriptor) ocispec.Descriptor {
	d.URLs = slices.Clone(d.URLs)
	d.Annotations = maps.Clone(d.Annotations)
	d.Data = bytes.Clone(d.Data)
	if d.Platform != nil {
		p := *d.Platform
		p.OSFeatures = slices.Clone(p.OSFeatures)
		d.Platform = &p
	}
	return d
}

// cloneDescriptors clones each descriptor of ds; nil stays nil.
func cloneDescriptors(ds []ocispec.Descriptor) []ocispec.Descriptor {
	if ds == nil {
		return nil
	}
	out := make([]ocispec.Descriptor, len(ds))
	for i, d := range ds {
		out[i] = cloneDescriptor(d)
	}
	return out
}

// cloneSubject clones an optional descriptor.
func cloneSubject(d *ocispec.Descriptor) *ocispec.Descriptor {
	if d == nil {
		return nil
	}
	c := cloneDescriptor(*d)
	return &c
}
