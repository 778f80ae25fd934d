package ocilayout

import (
	"context"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// StartUpload opens an upload session in repo, which need not exist yet: a
// file .regkit-tmp/upload-<id> of repo's layout directory, where id, the
// session's ID, is 32 random hex digits. Nothing of it is visible until
// Commit.
func (s *Store) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	if err := begin(ctx, repo); err != nil {
		return nil, err
	}
	id := randomID()
	p := uploadPath(repo, id)
	f, err := s.openTemp(repo, filepath.Base(p))
	if err != nil {
		return nil, err
	}
	u := &upload{store: s, id: id, repo: repo, path: p, f: f, hash: digest.SHA256.Hash()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Close()
		s.dropTemp(repo, p)
		return nil, errClosed
	}
	s.uploads[id] = u
	return u, nil
}

// ResumeUpload returns the open session id of repo. A session this Store
// started is returned as it is (callers may resume it from one request to
// the next, but not use it from two goroutines at once); a session file
// that an earlier Store over the same directory left is reopened, so
// uploads survive a restart. It fails with BLOB_UPLOAD_UNKNOWN when id is
// not 32 hex digits, or there is no such session in repo, or it was
// committed or cancelled.
func (s *Store) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	if err := begin(ctx, repo); err != nil {
		return nil, err
	}
	unknown := transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q not found in repository %q", id, repo)
	if !validID(id) {
		return nil, unknown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if u := s.uploads[id]; u != nil {
		if u.repo != repo {
			return nil, unknown
		}
		return u, nil
	}
	p := uploadPath(repo, id)
	f, err := s.root.OpenFile(p, os.O_RDWR, 0)
	if isNotExist(err) {
		return nil, unknown
	} else if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	u := &upload{store: s, id: id, repo: repo, path: p, f: f, size: size} // hash unknown
	s.uploads[id] = u
	return u, nil
}

// uploadPath returns the path of the file of session id in repo.
func uploadPath(repo, id string) string {
	return repoPath(repo, tmpDir, "upload-"+id)
}

// validID reports whether id can be a session ID: 32 lower-case hex
// digits, so it can never name another file.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// upload is an open upload session: a file, and the sha256 of its bytes
// when the session saw them all.
type upload struct {
	store          *Store
	id, repo, path string

	mu   sync.Mutex // guards the fields below
	f    *os.File
	size int64
	hash hash.Hash // sha256 of the bytes; nil for a session reopened from disk
	done bool      // committed, cancelled, or its Store closed
}

var _ transport.BlobWriter = (*upload)(nil)

// ID returns the session's ID.
func (u *upload) ID() string { return u.id }

// Size reports how many bytes the session holds.
func (u *upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.size
}

// Write appends p to the session's file. It fails with BLOB_UPLOAD_UNKNOWN
// once the session ended.
func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, u.closedErr()
	}
	n, err := u.f.Write(p)
	if u.hash != nil {
		u.hash.Write(p[:n])
	}
	u.size += int64(n)
	return n, err
}

// Commit ends the session and makes its file the blob want describes,
// after checking its digest and, when want.Size is positive, its size; the
// file is synced and renamed into blobs/. On a mismatch it fails with
// DIGEST_INVALID or SIZE_INVALID and the file is removed. If ctx is done,
// Commit returns its error and the session stays open.
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
	d, err := u.check(ctx, want)
	if err == nil {
		err = u.f.Sync()
	}
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		u.store.dropTemp(u.repo, u.path)
		return err
	}
	l := u.store.lock(u.repo)
	l.Lock()
	defer l.Unlock()
	return u.store.publishBlob(u.repo, u.path, d)
}

// check returns want's digest if the session's bytes match want.
func (u *upload) check(ctx context.Context, want ocispec.Descriptor) (digest.Digest, error) {
	d, err := backend.CheckCommit(want)
	if err != nil {
		return "", err
	}
	h := u.hash
	if alg := d.Algorithm(); h == nil || alg != digest.SHA256 {
		h = alg.Hash()
		if _, err := u.f.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		if _, err := copyHashing(ctx, io.Discard, u.f, h, 0); err != nil {
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
	u.f.Close()
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
	delete(u.store.uploads, u.id)
}

// detach ends the session without touching its file, for [Store.Close].
func (u *upload) detach() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.done {
		u.done = true
		u.f.Close()
	}
}

func (u *upload) closedErr() error {
	return transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q in repository %q has ended", u.id, u.repo)
}
