package fake

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// StartUpload opens an upload session in repo, which need not exist yet.
// The session has a random ID, by which [Store.ResumeUpload] finds it again.
// It fails with TOOMANYREQUESTS when [WithMaxUploads] sessions are open.
func (s *Store) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return nil, err
	}
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails
	now := s.now()
	u := &upload{
		store: s,
		id:    hex.EncodeToString(id[:]),
		repo:  repo,
		data:  content{files: &s.files},
		hash:  digest.SHA256.Hash(),
		last:  now,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if s.maxUploads > 0 && len(s.uploads) >= s.maxUploads {
		return nil, backend.TooManyUploads(len(s.uploads))
	}
	s.uploads[u.id] = u
	u.listed, u.elem = now, s.idle.PushBack(u)
	return u, nil
}

// ResumeUpload returns the open session id of repo. It fails with
// BLOB_UPLOAD_UNKNOWN when there is no such session, or it belongs to
// another repository, or it was committed, cancelled or expired. Each call
// returns the same session: callers may resume it from one request to the
// next, but not use it from two goroutines at once. Resuming a session
// counts as activity: it postpones its expiry.
func (s *Store) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	s.sweep(now)
	u := s.uploads[id]
	if u == nil || u.repo != repo {
		s.mu.Unlock()
		return nil, transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q not found in repository %q", id, repo)
	}
	u.listed = now
	s.idle.MoveToBack(u.elem)
	s.mu.Unlock()

	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.done && u.idleFor(now) { // the sweep stopped short of it
		u.expire()
		s.mu.Lock()
		s.forget(u)
		s.mu.Unlock()
	}
	if u.done {
		return nil, u.closedErr()
	}
	if now.After(u.last) { // a write may have come in since now was read
		u.last = now
	}
	return u, nil
}

// upload is an open upload session. Its bytes are staged in data, hashed
// with sha256 as they come, since most blobs are sha256; a commit under
// another algorithm, or after a Truncate, hashes them again.
type upload struct {
	store    *Store
	id, repo string

	// Guarded by store.mu:
	elem   *list.Element // its place in store.idle; nil once forgotten
	listed time.Time     // when it was put at the back of store.idle

	mu      sync.Mutex // guards the fields below
	data    content
	hash    hash.Hash // sha256 of data; nil when it must be computed again
	last    time.Time // its last activity: started, resumed or written to
	done    bool      // committed, cancelled or expired
	expired bool
	reading bool // a ReadFrom is reading into data's free space and hashing
}

var (
	_ transport.BlobWriter    = (*upload)(nil)
	_ transport.BlobTruncater = (*upload)(nil)
	_ io.ReaderFrom           = (*upload)(nil)
)

// ID returns the session's ID.
func (u *upload) ID() string { return u.id }

// Size reports how many bytes the session holds.
func (u *upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.data.size
}

// Write stages p. It fails with BLOB_UPLOAD_UNKNOWN once the session is
// committed, cancelled or expired, with TOOMANYREQUESTS, writing
// nothing, when p would take the sessions beyond [WithMaxUploadBytes], and
// with BLOB_UPLOAD_INVALID while a ReadFrom (another request's body) reads
// into the session.
func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, u.closedErr()
	}
	if u.reading {
		return 0, u.busyErr()
	}
	if err := u.reserve(int64(len(p))); err != nil {
		return 0, err
	}
	if err := u.data.write(p); err != nil {
		u.store.uploadBytes.Add(-int64(len(p)))
		return 0, err
	}
	if u.hash != nil {
		u.hash.Write(p)
	}
	u.last = u.store.now()
	return len(p), nil
}

// ReadFrom stages the bytes of r to its end. While the session is small
// they are read straight into its memory: no intermediate buffer, and
// reads as large as the space left in the session's current chunk. Once
// it outgrows a chunk, or is expected to, they are read into a few reused
// buffers and written to a file in memory (see [content]). They are hashed
// once, on a goroutine of their own while the next ones are read. When r
// is an [*io.LimitedReader], as the server makes it of a request body with
// a Content-Length or a Content-Range, its N sizes the chunks, so that a
// blob of known size is allocated exactly, once. It fails as
// [upload.Write] does: the bytes of the read that takes the sessions beyond
// [WithMaxUploadBytes] are not staged. Until it returns, the session is
// its own: a Write, Truncate, Commit or ReadFrom of another request fails
// with BLOB_UPLOAD_INVALID (a Cancel or the expiry still ends it). It
// returns the bytes staged.
func (u *upload) ReadFrom(r io.Reader) (int64, error) {
	lr, _ := r.(*io.LimitedReader)
	u.mu.Lock()
	if u.done {
		u.mu.Unlock()
		return 0, u.closedErr()
	}
	if u.reading {
		u.mu.Unlock()
		return 0, u.busyErr()
	}
	u.reading = true
	h := u.hash
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.reading = false
		u.mu.Unlock()
	}()
	// While reading is set, no Write, Truncate, Commit or other ReadFrom
	// changes the session, unless it ends meanwhile (cancelled, expired or
	// swept), which the gate sees.
	return u.data.fill(r, h, uploadGate{u, lr})
}

// uploadGate is the gate of a ReadFrom: it stops at the end of a limited
// reader, and admits bytes as [upload.Write] does.
type uploadGate struct {
	u  *upload
	lr *io.LimitedReader // nil: the length is unknown
}

func (g uploadGate) Lock()   { g.u.mu.Lock() }
func (g uploadGate) Unlock() { g.u.mu.Unlock() }

func (g uploadGate) next() (int64, error) {
	if g.u.done {
		return 0, g.u.closedErr()
	}
	if g.lr == nil {
		return 0, nil
	}
	if g.lr.N <= 0 { // r is at its end: no room to make
		return 0, io.EOF
	}
	return g.lr.N, nil
}

func (g uploadGate) admit(n int64) error {
	if g.u.done {
		return g.u.closedErr()
	}
	if err := g.u.reserve(n); err != nil {
		return err
	}
	g.u.last = g.u.store.now()
	return nil
}

func (g uploadGate) unadmit(n int64) { g.u.store.uploadBytes.Add(-n) }

// reserve counts n more bytes in the sessions' total, or fails, counting
// nothing, when they would take it beyond [WithMaxUploadBytes].
func (u *upload) reserve(n int64) error {
	if limit := u.store.maxUploadBytes; limit > 0 && u.store.uploadBytes.Add(n) > limit {
		u.store.uploadBytes.Add(-n)
		return tooManyUploadBytes(limit)
	} else if limit <= 0 {
		u.store.uploadBytes.Add(n)
	}
	return nil
}

// Truncate drops the bytes after the first size, so that the session holds
// what it held when its Size was size; [server.Handler] calls it to undo
// a chunk it refuses. It fails with BLOB_UPLOAD_INVALID when size is
// negative or beyond Size or while a ReadFrom reads into the session, and
// with BLOB_UPLOAD_UNKNOWN once the session ended. The bytes kept are hashed again at Commit.
func (u *upload) Truncate(size int64) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return u.closedErr()
	}
	if u.reading {
		return u.busyErr()
	}
	if size < 0 || size > u.data.size {
		return backend.TruncateInvalid(u.id, size, u.data.size)
	}
	if size == u.data.size {
		return nil
	}
	u.store.uploadBytes.Add(size - u.data.size)
	u.data.truncate(size)
	u.hash = nil
	if size == 0 {
		u.hash = digest.SHA256.Hash()
	}
	u.last = u.store.now()
	return nil
}

// Commit ends the session and publishes its bytes as the blob want
// describes, after checking their digest and, when want.Size is positive,
// their size. On a mismatch it fails with DIGEST_INVALID or SIZE_INVALID
// and the session is discarded. If ctx is done, or a ReadFrom reads into
// the session (BLOB_UPLOAD_INVALID), Commit returns its error and the
// session stays open.
func (u *upload) Commit(ctx context.Context, want ocispec.Descriptor) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return u.closedErr()
	}
	if u.reading {
		return u.busyErr()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	u.end()
	sum := u.hash
	data := u.release()

	d, err := backend.CheckCommit(want)
	if err != nil {
		data.drop()
		return err
	}
	var got digest.Digest
	if alg := d.Algorithm(); alg == digest.SHA256 && sum != nil {
		got = digest.NewDigest(alg, sum)
	} else {
		h := alg.Hash()
		_ = data.each(0, func(chunk []byte) error {
			_, err := h.Write(chunk)
			return err
		})
		got = digest.NewDigest(alg, h)
	}
	if err := backend.Verify(d, want.Size, got, data.size); err != nil {
		data.drop()
		return err
	}
	data.seal()
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	u.store.publish(u.repo, d, &data)
	return nil
}

// Cancel ends the session and discards its bytes. It fails with
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
	data := u.release()
	data.drop()
	return nil
}

// end marks the session done and forgets it. The caller holds u.mu.
func (u *upload) end() {
	u.done = true
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	u.store.forget(u)
}

// busyErr is the error of a Write, Truncate, Commit or ReadFrom while a
// ReadFrom of another request reads into the session.
func (u *upload) busyErr() error {
	return transport.Errorf(transport.CodeBlobUploadInvalid, "upload %q in repository %q is being written by another request", u.id, u.repo)
}

func (u *upload) closedErr() error {
	if u.expired {
		return transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q in repository %q expired: it was idle for %v", u.id, u.repo, u.store.uploadExpiry)
	}
	return transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q in repository %q was already committed or cancelled", u.id, u.repo)
}
