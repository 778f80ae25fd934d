package ocilayout

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// StartUpload opens an upload session in repo, which need not exist yet: a
// file .regkit-tmp/upload-<id> of repo's layout directory, where id, the
// session's ID, is 32 random hex digits. Nothing of it is visible until
// Commit. The session keeps no file open between calls: each Write (or
// ReadFrom, which io.Copy uses) opens the file, writes and closes it.
//
// Sessions idle for longer than the Store's upload expiry
// ([WithUploadExpiry]) are removed. When the Store already has as many open
// sessions as [WithMaxUploads] allows, StartUpload fails with an error
// matching [transport.ErrTooManyRequests].
func (s *Store) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	if err := s.begin(ctx, repo); err != nil {
		return nil, err
	}
	s.sweepIfDue()
	id := randomID()
	p := s.uploadPath(repo, id)
	f, err := s.openTemp(repo, filepath.Base(p))
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		s.dropTemp(repo, p)
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	u := &upload{store: s, id: id, repo: repo, path: p, hash: digest.SHA256.Hash()}
	u.touch()
	if _, err := s.register(u); err != nil {
		s.dropTemp(repo, p)
		return nil, err
	}
	return u, nil
}

// ResumeUpload returns the open session id of repo. A session this Store
// started is returned as it is (callers may resume it from one request to
// the next, but not use it from two goroutines at once); a session file
// that an earlier Store over the same directory left is taken up again, so
// uploads survive a restart. It fails with BLOB_UPLOAD_UNKNOWN when id is
// not 32 hex digits, or there is no such session in repo, or it was
// committed, cancelled or expired; taking up a session from disk fails as
// [Store.StartUpload] does when too many are open.
func (s *Store) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	if err := s.begin(ctx, repo); err != nil {
		return nil, err
	}
	unknown := transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q not found in repository %q", id, repo)
	if !validID(id) {
		return nil, unknown
	}
	s.sweepIfDue()
	s.mu.Lock()
	u, closed := s.uploads[id], s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return nil, errClosed
	case u != nil && u.repo != repo:
		return nil, unknown
	case u != nil:
		u.touch()
		return u, nil
	}
	p := s.uploadPath(repo, id)
	fi, err := s.root.Stat(p)
	if isNotExist(err) {
		return nil, unknown
	} else if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, unknown
	}
	if exp := s.opts.expiry; exp > 0 && fi.ModTime().Before(s.opts.now().Add(-exp)) {
		// Idle for longer than the expiry, in a Store that crashed or has
		// not swept it yet: expired here too.
		s.dropTemp(repo, p)
		return nil, unknown
	}
	u = &upload{store: s, id: id, repo: repo, path: p, size: fi.Size()} // hash unknown
	u.touch()
	// Another ResumeUpload may have taken it up at the same moment: then
	// register returns that one.
	return s.register(u)
}

// uploadPath returns the path of the file of session id in repo.
func (s *Store) uploadPath(repo, id string) string {
	return s.repoPath(repo, tmpDir, "upload-"+id)
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
