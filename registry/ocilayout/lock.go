package ocilayout

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
)

// lockDir is the directory, at the top of a Store's directory, of the lock
// files that order the writes of every Store over it, in this process and
// in others. Like tmpDir, its name starts with a dot, so it is no
// repository.
const lockDir = ".regkit-lock"

// stripe returns the number of the lock of repository name: one of a fixed
// set, chosen by a hash of its name, so that memory and lock files stay
// bounded whatever names callers try.
func (s *Store) stripe(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % uint32(len(s.locks)))
}

// rlock takes the read lock of repository name and returns its release.
// Readers need no file lock: every file they read is replaced whole, by a
// rename.
func (s *Store) rlock(name string) func() {
	l := &s.locks[s.stripe(name)]
	l.RLock()
	return l.RUnlock
}

// lock takes the write lock of repository name, held to read and rewrite
// its index.json and to move files into it, and returns its release: the
// Store's own lock, then an exclusive lock on the lock file of the same
// number in lockDir, which other Stores over the directory, in this process
// or another, take too. The lock file stays open only while the lock is
// held.
func (s *Store) lock(name string) (unlock func(), err error) {
	i := s.stripe(name)
	l := &s.locks[i]
	l.Lock()
	f, err := s.openLockFile(i)
	if err == nil {
		if err = lockFile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		l.Unlock()
		return nil, fmt.Errorf("repository %q: lock: %w", name, err)
	}
	return func() {
		_ = unlockFile(f)
		f.Close() // releases the lock anyway
		l.Unlock()
	}, nil
}

// openLockFile opens lock file i, making it if needed.
func (s *Store) openLockFile(i int) (*os.File, error) {
	p := filepath.Join(lockDir, strconv.Itoa(i))
	f, err := s.root.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if isNotExist(err) {
		if err = s.mkdirAll(lockDir); err == nil {
			f, err = s.root.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		}
	}
	return f, err
}

// withLock runs f under the write lock of repository name.
func (s *Store) withLock(name string, f func() error) error {
	unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}
