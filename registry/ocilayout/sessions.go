package ocilayout

import (
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/regkit/regkit/internal/backend"
)

// This file bounds the upload sessions of a Store: how many may be open
// (WithMaxUploads), how long one may stay idle (WithUploadExpiry), and what
// becomes of the temporary files a crash leaves.

// register adds u to the Store's open sessions and returns it, or returns
// the session of u's ID if one is open already. When as many sessions as
// the Store allows are open, it sweeps the expired ones, then fails with
// TOOMANYREQUESTS if none was.
func (s *Store) register(u *upload) (*upload, error) {
	for swept := false; ; swept = true {
		s.mu.Lock()
		switch v := s.uploads[u.id]; {
		case s.closed:
			s.mu.Unlock()
			return nil, errClosed
		case v != nil:
			s.mu.Unlock()
			return v, nil
		case s.opts.maxUploads == 0 || len(s.uploads) < s.opts.maxUploads:
			s.uploads[u.id] = u
			s.mu.Unlock()
			return u, nil
		}
		s.mu.Unlock()
		if swept {
			return nil, backend.TooManyUploads(s.opts.maxUploads)
		}
		s.sweep()
	}
}

// sweepIfDue sweeps the expired sessions if the last sweep is older than a
// quarter of the expiry, so that a session is removed at most 1.25 expiries
// after its last use while sweeps stay rare.
func (s *Store) sweepIfDue() {
	if s.opts.expiry == 0 {
		return
	}
	now := s.opts.now()
	s.mu.Lock()
	due := !now.Before(s.nextSweep)
	if due {
		s.nextSweep = now.Add(s.opts.expiry / 4)
	}
	s.mu.Unlock()
	if due {
		s.sweep()
	}
}

// sweep ends every session idle for longer than the expiry and removes its
// file, then removes the old temporary files of the repositories that had
// leftovers when the Store opened. A session in use (a write under way)
// is not idle.
func (s *Store) sweep() {
	if s.opts.expiry == 0 {
		return
	}
	now := s.opts.now()
	cutoff := now.Add(-s.opts.expiry).UnixNano()
	s.mu.Lock()
	var idle []*upload
	for _, u := range s.uploads {
		if u.used.Load() < cutoff {
			idle = append(idle, u)
		}
	}
	repos := make([]string, 0, len(s.leftovers))
	for r := range s.leftovers {
		repos = append(repos, r)
	}
	s.mu.Unlock()
	for _, u := range idle {
		if !u.mu.TryLock() {
			continue // in use
		}
		if !u.done && u.used.Load() < cutoff {
			u.end()
			_ = u.remove()
		}
		u.mu.Unlock()
	}
	for _, r := range repos {
		if !s.reclaim(r, now) {
			s.mu.Lock()
			delete(s.leftovers, r)
			s.mu.Unlock()
		}
	}
}

// reclaimAll removes, from the temporary directory of every repository, the
// files older than the expiry: what a crash left. It walks the repository
// directories only, never into blobs/. Repositories left with younger
// temporary files are remembered, for [Store.sweep] to look at again.
func (s *Store) reclaimAll() {
	if s.opts.expiry == 0 {
		return
	}
	now := s.opts.now()
	if s.single != "" {
		if s.reclaim(s.single, now) {
			s.leftovers[s.single] = true
		}
		return
	}
	fsys := s.root.FS()
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		base := path.Base(p)
		switch {
		case p == ".":
			return nil
		case base == tmpDir:
			repo := path.Dir(p)
			if checkRepo(repo) == nil && s.reclaim(repo, now) {
				s.leftovers[repo] = true
			}
			return fs.SkipDir
		case base == blobsDir || strings.HasPrefix(base, ".") || checkRepo(p) != nil:
			return fs.SkipDir
		}
		return nil
	})
}

// reclaim removes the files of the temporary directory of repo last
// modified before the expiry, and tidies. Files of sessions open in this
// Store are left to the session sweep. It reports whether younger files
// are left.
func (s *Store) reclaim(repo string, now time.Time) (left bool) {
	dir := s.repoPath(repo, tmpDir)
	f, err := s.root.Open(dir)
	if err != nil {
		return false
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return false
	}
	cutoff := now.Add(-s.opts.expiry)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || s.openSession(e.Name()) {
			continue
		}
		if info.ModTime().Before(cutoff) {
			_ = s.root.Remove(s.repoPath(repo, tmpDir, e.Name()))
			continue
		}
		left = true
	}
	s.tidy(repo)
	return left
}

// openSession reports whether file is the file of a session open in the
// Store.
func (s *Store) openSession(file string) bool {
	id, ok := strings.CutPrefix(file, "upload-")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploads[id] != nil
}
