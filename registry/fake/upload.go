package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// StartUpload opens an upload session in repo, which need not exist yet.
// The session has a random ID, by which [Store.ResumeUpload] finds it again.
func (s *Store) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return nil, err
	}
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails
	u := &upload{
		store: s,
		id:    hex.EncodeToString(id[:]),
		repo:  repo,
		hash:  digest.SHA256.Hash(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploads[u.id] = u
	return u, nil
}

// ResumeUpload returns the open session id of repo. It fails with
// BLOB_UPLOAD_UNKNOWN when there is no such session, or it belongs to
// another repository, or it was committed or cancelled. Each call returns the
// same session: callers may resume it from one request to the next, but not
// use it from two goroutines at once.
func (s *Store) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.uploads[id]
	if u == nil || u.repo != repo {
		return nil, transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q not found in repository %q", id, repo)
	}
	return u, nil
}

// upload is an open upload session. Its bytes are staged in data, hashed
// with sha256 as they come, since most blobs are sha256; a commit under
// another algorithm hashes them again.
type upload struct {
	store    *Store
	id, repo string

	mu   sync.Mutex // guards the fields below
	data content
	hash hash.Hash // sha256 of data
	done bool      // committed or cancelled
}

var _ transport.BlobWriter = (*upload)(nil)

// ID returns the session's ID.
func (u *upload) ID() string { return u.id }

// Size reports how many bytes the session holds.
func (u *upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.data.size
}

// Write stages p. It fails with BLOB_UPLOAD_UNKNOWN once the session is
// committed or cancelled.
func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, u.closedErr()
	}
	u.data.write(p)
	u.hash.Write(p)
	return len(p), nil
}

// Commit ends the session and publishes its bytes as the blob want
// describes, after checking their digest and, when want.Size is positive,
// their size. On a mismatch it fails with DIGEST_INVALID or SIZE_INVALID
// and the session is discarded. If ctx is done, Commit returns its error and
// the session stays open.
func (u *upload) Commit(ctx context.Context, want ocispec.Descriptor) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return u.closedErr()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	u.end()
	data := u.data
	u.data = content{}

	d, err := backend.CheckCommit(want)
	if err != nil {
		return err
	}
	got := digest.NewDigest(digest.SHA256, u.hash)
	if alg := d.Algorithm(); alg != digest.SHA256 {
		h := alg.Hash()
		_ = data.each(0, func(chunk []byte) error {
			_, err := h.Write(chunk)
			return err
		})
		got = digest.NewDigest(alg, h)
	}
	if err := backend.Verify(d, want.Size, got, data.size); err != nil {
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
	u.data = content{}
	return nil
}

// end marks the session done and forgets it. The caller holds u.mu.
func (u *upload) end() {
	u.done = true
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	delete(u.store.uploads, u.id)
}

func (u *upload) closedErr() error {
	return transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q in repository %q was already committed or cancelled", u.id, u.repo)
}
