// Package verify checks content against its descriptor while it streams.
package verify

import (
	"errors"
	"hash"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// Reader reads a blob and checks, as the bytes go by, that they have the size
// and digest its descriptor promises. A read past the promised size, or the
// end of the stream with the wrong size or digest, returns a
// [transport.ErrSizeInvalid] or [transport.ErrDigestInvalid] error instead of
// [io.EOF]: a caller that reads to the end never gets unverified bytes as a
// success. Its errors do not name the blob: the caller's wrapping does.
type Reader struct {
	rc   io.ReadCloser
	desc ocispec.Descriptor
	h    hash.Hash
	n    int64
	err  error

	mu     sync.Mutex // guards ahead and closed, which Close may touch during a Read
	ahead  *hashAhead // for a big blob: hashes on its own goroutine
	closed bool
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
		r.err = transport.Errorf(transport.CodeSizeInvalid, "more than the expected %d bytes", r.desc.Size)
		return 0, r.err
	}
	if a := r.hasher(); a != nil {
		a.write(p[:n])
	} else {
		r.h.Write(p[:n])
	}
	if errors.Is(err, io.EOF) {
		err = r.check()
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

func (r *Reader) check() error {
	r.stopHashing()
	if r.desc.Size >= 0 && r.n != r.desc.Size {
		return transport.Errorf(transport.CodeSizeInvalid, "got %d bytes, want %d", r.n, r.desc.Size)
	}
	if got := digest.NewDigest(r.desc.Digest.Algorithm(), r.h); got != r.desc.Digest {
		return transport.Errorf(transport.CodeDigestInvalid, "content hashes to %s", got)
	}
	return io.EOF
}

// hasher returns the goroutine hashing a big blob, started on first use,
// or nil when the caller hashes.
func (r *Reader) hasher() *hashAhead {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ahead == nil && !r.closed && r.desc.Size > hashAheadMin {
		r.ahead = newHashAhead(r.h)
	}
	return r.ahead
}

// stopHashing waits until every byte read is hashed.
func (r *Reader) stopHashing() {
	r.mu.Lock()
	a := r.ahead
	r.ahead = nil
	r.mu.Unlock()
	if a != nil {
		a.finish()
	}
}

// Close closes the underlying reader. It may be called while a Read is
// under way, to end it.
func (r *Reader) Close() error {
	r.mu.Lock()
	r.closed = true
	a := r.ahead
	r.mu.Unlock()
	err := r.rc.Close()
	if a != nil {
		a.abort()
	}
	return err
}

// IsCorrupt reports whether err says that bytes did not match their digest
// or their size ([transport.ErrDigestInvalid], [transport.ErrSizeInvalid]):
// what a byte changed or lost on the way looks like.
func IsCorrupt(err error) bool {
	return errors.Is(err, transport.ErrDigestInvalid) || errors.Is(err, transport.ErrSizeInvalid)
}
