package image

import "github.com/regkit/regkit/transport"

// Source is where a pulled blob is stored: the repository it was pulled
// from and the transport that reached it. The repository package records
// it on the blobs of the images it pulls, so that pushing them to another
// repository of the same registry mounts them there rather than reading
// them (see [Blob.Source]).
type Source struct {
	// Transport reaches the registry that holds the blob.
	Transport transport.Transport
	// Repository is the repository of that registry that holds it.
	Repository string
}

// Source returns where the blob was pulled from, and false when it was not
// pulled (or its source is not known).
func (b Blob) Source() (Source, bool) {
	if b.src == nil {
		return Source{}, false
	}
	return *b.src, true
}

// WithSource returns a copy of img whose config and layers record src as
// the place they are stored (see [Blob.Source]). The manifest, its bytes
// and its digest are unchanged. The repository package calls it on the
// images it pulls; a src that is wrong costs a refused mount, after which a
// push reads the blob as usual.
func (img *Image) WithSource(src Source) *Image {
	out := *img
	out.config = withSource(img.config, src)
	out.layers = make([]Blob, len(img.layers))
	for i, l := range img.layers {
		out.layers[i] = withSource(l, src)
	}
	return &out
}

// withSource returns b recording src.
func withSource(b Blob, src Source) Blob {
	b.src = &src
	return b
}
