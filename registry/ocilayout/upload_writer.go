package ocilayout

import (
	"context"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// upload is an open upload session: a file, which it opens only for the
// length of a call, and the sha256 of its bytes when the session saw them
// all.
type upload struct {
	store          *Store
	id, repo, path string

	// used is when the session was last started, resumed or written to, in
	// Unix nanoseconds of the Store's clock: the expiry sweep reads it
	// without u.mu, which a long write holds.
	used atomic.Int64

	mu   sync.Mutex // guards the fields below
	size int64
	hash hash.Hash // sha256 of the bytes; nil for a session taken up from disk
	done bool      // committed, cancelled, expired, or its Store closed
}

var (
	_ transport.BlobWriter = (*upload)(nil)
	_ io.ReaderFrom        = (*upload)(nil)
)

// ID returns the session's ID.
func (u *upload) ID() string { return u.id }

// Size reports how many bytes the session holds.
func (u *upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.size
}

// touch records that the session is in use now.
func (u *upload) touch() { u.used.Store(u.store.opts.now().UnixNano()) }

// open opens the session's file for writing. A file that has gone (the
// session expired meanwhile) fails with BLOB_UPLOAD_UNKNOWN. The caller
// holds u.mu.
func (u *upload) open() (*os.File, error) {
	if u.done {
		return nil, u.closedErr()
	}
	f, err := u.store.root.OpenFile(u.path, os.O_RDWR, 0)
	if isNotExist(err) {
		return nil, u.closedErr()
	} else if err != nil {
		return nil, fmt.Errorf("repository %q: %w", u.repo, err)
	}
	return f, nil
}

// Write appends p to the session's file. It fails with BLOB_UPLOAD_UNKNOWN
// once the session ended.
func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.open()
	if err != nil {
		return 0, err
	}
	defer u.touch()
	n, err := u.writeAt(f, p)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("repository %q: %w", u.repo, cerr)
	}
	return n, err
}

// ReadFrom appends what r gives, until it ends, to the session's file,
// opened once for all of it; [io.Copy] uses it. It returns the number of
// bytes written and the first error of r (io.EOF excepted) or of the file.
func (u *upload) ReadFrom(r io.Reader) (int64, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.open()
	if err != nil {
		return 0, err
	}
	defer u.touch()
	buf := bufPool.Get().(*[256 << 10]byte)
	defer bufPool.Put(buf)
	var total int64
	for {
		m, rerr := r.Read(buf[:])
		if m > 0 {
			n, werr := u.writeAt(f, buf[:m])
			total += int64(n)
			if werr != nil {
				f.Close()
				return total, werr
			}
			u.touch()
		}
		if rerr != nil {
			if cerr := f.Close(); cerr != nil {
				return total, fmt.Errorf("repository %q: %w", u.repo, cerr)
			}
			if rerr == io.EOF {
				return total, nil
			}
			return total, rerr
		}
	}
}

// writeAt writes p at the end of the session's bytes in f and counts what
// was written. The caller holds u.mu.
func (u *upload) writeAt(f *os.File, p []byte) (int, error) {
	n, err := f.WriteAt(p, u.size)
	if u.hash != nil {
		u.hash.Write(p[:n])
	}
	u.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("repository %q: %w", u.repo, err)
	}
	return n, nil
}

// Commit ends the session and makes its file the blob want describes,
// after checking its digest and, when want.Size is positive, its size; the
// file is synced and renamed into blobs/, replacing a file of that blob
// already there (which may be damaged). On a mismatch it fails with
// DIGEST_INVALID or SIZE_INVALID and the file is removed. If ctx is done,
// Commit returns its error and the session stays open.
func (u *upload) Commit(ctx context.Context, want ocispec.Descriptor) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := u.open()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		f.Close()
		return err
	}
	u.end()
	d, err := u.check(ctx, f, want)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		u.store.dropTemp(u.repo, u.path)
		return err
	}
	return u.store.withLock(u.repo, func() error { return u.store.publishBlob(u.repo, u.path, d) })
}

// check returns want's digest if the session's bytes, in f, match want.
func (u *upload) check(ctx context.Context, f *os.File, want ocispec.Descriptor) (digest.Digest, error) {
	d, err := backend.CheckCommit(want)
	if err != nil {
		return "", err
	}
	h := u.hash
	if alg := d.Algorithm(); h == nil || alg != digest.SHA256 {
		h = alg.Hash()
		if _, err := copyHashing(ctx, io.Discard, io.NewSectionReader(f, 0, u.size), h, 0); err != nil {
			return "", err
		}
	}
	return d, backend.Verify(d, want.Size, digest.NewDigest(d.Algorithm(), h), u.size)
}

// Cancel ends the session and removes its file. It fails with
// BLOB_UPLOAD_UNKNOWN if the session already ended.
func (u *upload) Cancel(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return u.closedErr()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	u.end()
	return u.remove()
}

// remove removes the session's file. The caller holds u.mu.
func (u *upload) remove() error {
	if err := u.store.root.Remove(u.path); err != nil && !isNotExist(err) {
		return fmt.Errorf("repository %q: %w", u.repo, err)
	}
	u.store.tidy(u.repo)
	return nil
}

// end marks the session done and forgets it. The caller holds u.mu.
func (u *upload) end() {
	u.done = true
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	if u.store.uploads[u.id] == u {
		delete(u.store.uploads, u.id)
	}
}

// detach ends the session without touching its file, for [Store.Close].
func (u *upload) detach() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.done = true
}

func (u *upload) closedErr() error {
	return transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q in repository %q has ended", u.id, u.repo)
}
