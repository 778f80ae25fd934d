// Package verify checks content against its descriptor while it streams.
package verify

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
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
// Close it when done: a big blob is hashed by a goroutine of its own, which
// Close, the end of the stream or a read error stops.
type Reader struct {
	rc   io.ReadCloser
	desc ocispec.Descriptor
	h    hash.Hash
	n    int64
	err  error

	mu       sync.Mutex // guards ahead and closed, which Close may touch during a Read
	ahead    *hashAhead // for a big blob: hashes on its own goroutine
	aheadMin int64      // the size above which a blob is hashed ahead
	closed   bool
}

// NewReader wraps rc. desc must carry a digest of an available algorithm; a
// negative size means the size is unknown and only the digest is checked.
func NewReader(rc io.ReadCloser, desc ocispec.Descriptor) (*Reader, error) {
	if err := desc.Digest.Validate(); err != nil {
		rc.Close()
		return nil, &transport.Error{Code: transport.CodeDigestInvalid, Message: fmt.Sprintf("%q", desc.Digest), Err: err}
	}
	return &Reader{rc: rc, desc: desc, h: desc.Digest.Algorithm().Hash(), aheadMin: hashAheadMin}, nil
}

// errClosed is what a Read gets once Close was called: what it read may
// not all have been hashed, so it cannot be verified.
var errClosed = fmt.Errorf("read of a blob being closed: %w", os.ErrClosed)

// Read implements [io.Reader].
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p)
	r.n += int64(n)
	if r.desc.Size >= 0 && r.n > r.desc.Size {
		return 0, r.fail(transport.Errorf(transport.CodeSizeInvalid, "more than the expected %d bytes", r.desc.Size))
	}
	a, closed := r.hasher()
	switch {
	case closed:
		return 0, r.fail(errClosed)
	case a != nil:
		a.write(p[:n])
	default:
		r.h.Write(p[:n])
	}
	switch {
	case errors.Is(err, io.EOF):
		err = r.check()
		r.err = err
	case err != nil:
		r.fail(err)
	}
	return n, err
}

// fail makes err the error of every later Read, and stops the hashing.
func (r *Reader) fail(err error) error {
	r.err = err
	r.stopHashing(false)
	return err
}

// check returns io.EOF if what was read has the descriptor's size and
// digest, or the error that says how it differs.
func (r *Reader) check() error {
	if !r.stopHashing(true) {
		return errClosed // Close came during the read: the hash misses bytes
	}
	if r.desc.Size >= 0 && r.n != r.desc.Size {
		return transport.Errorf(transport.CodeSizeInvalid, "got %d bytes, want %d", r.n, r.desc.Size)
	}
	if got := digest.NewDigest(r.desc.Digest.Algorithm(), r.h); got != r.desc.Digest {
		return transport.Errorf(transport.CodeDigestInvalid, "content hashes to %s", got)
	}
	return io.EOF
}

// hasher returns the goroutine hashing a big blob, started on first use,
// or nil when the caller hashes; closed reports that Close was called.
func (r *Reader) hasher() (a *hashAhead, closed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, true
	}
	if r.ahead == nil && r.desc.Size > r.aheadMin {
		r.ahead = newHashAhead(r.h)
	}
	return r.ahead, false
}

// stopHashing stops the goroutine hashing a big blob, if any, once it has
// hashed every byte read when complete is true, at once otherwise. It
// reports whether the hash holds every byte read.
func (r *Reader) stopHashing(complete bool) bool {
	r.mu.Lock()
	a := r.ahead
	r.ahead = nil
	r.mu.Unlock()
	switch {
	case a == nil:
		return true
	case !complete:
		a.abort()
		a.recycle()
		return false
	}
	a.finish()
	return !a.aborted()
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

// AgainIfCorrupt runs send, and once more if it failed as corrupt (see
// [IsCorrupt]), as bytes damaged on the way fail: again tells send which
// run it is. It returns the error of the last run.
func AgainIfCorrupt(send func(again bool) error) error {
	err := send(false)
	if IsCorrupt(err) {
		err = send(true)
	}
	return err
}
