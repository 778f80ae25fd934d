// Package verify checks content against its descriptor while it streams.
package verify

import (
	"errors"
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// Reader reads a blob and checks, as the bytes go by, that they have the size
// and digest its descriptor promises. A read past the promised size, or the
// end of the stream with the wrong size or digest, returns a
// [transport.ErrSizeInvalid] or [transport.ErrDigestInvalid] error instead of
// [io.EOF]: a caller that reads to the end never gets unverified bytes as a
// success.
type Reader struct {
	rc   io.ReadCloser
	desc ocispec.Descriptor
	h    hash.Hash
	n    int64
	err  error
}

// NewReader wraps rc. desc must carry a digest of an available algorithm; a
// negative size means the size is unknown and only the digest is checked.
func NewReader(rc io.ReadCloser, desc ocispec.Descriptor) (*Reader, error) {
	if err := desc.Digest.Validate(); err != nil {
		rc.Close()
		return nil, transport.Errorf(transport.CodeDigestInvalid, "%q: %v", desc.Digest, err)
	}
	return &Reader{rc: rc, desc: desc, h: desc.Digest.Algorithm().Hash()}, nil
}

// Read implements [io.Reader].
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p)
	r.n += int64(n)
	if r.desc.Size >= 0 && r.n > r.desc.Size {
		r.err = transport.Errorf(transport.CodeSizeInvalid, "blob %s: more than the expected %d bytes", r.desc.Digest, r.desc.Size)
		return 0, r.err
	}
	r.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		err = r.check()
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

func (r *Reader) check() error {
	if r.desc.Size >= 0 && r.n != r.desc.Size {
		return transport.Errorf(transport.CodeSizeInvalid, "blob %s: got %d bytes, want %d", r.desc.Digest, r.n, r.desc.Size)
	}
	if got := digest.NewDigest(r.desc.Digest.Algorithm(), r.h); got != r.desc.Digest {
		return transport.Errorf(transport.CodeDigestInvalid, "blob %s: content hashes to %s", r.desc.Digest, got)
	}
	return io.EOF
}

// Close closes the underlying reader.
func (r *Reader) Close() error { return r.rc.Close() }
