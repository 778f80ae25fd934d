package ocilayout

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// A Store keeps the index.json it last read or wrote of a repository,
// parsed ([index]), while the file stays the same: each use checks, with
// one stat, that index.json is still the file that was read (same device
// and inode, size and modification time), and reads it again otherwise.
// The cache is one entry per lock stripe ([Store.stripe]), so that it
// holds at most 64 repositories, and an entry is only used under the
// repository's lock: readers share it, a writer (who excludes them) edits
// it in place and replaces index.json, then records the new file.
//
// The check is safe because every writer replaces index.json by a rename
// of a new file, as this package does, and skopeo, umoci and containers/
// image do (they write a temporary file and rename it): a new file has a
// new inode. Where the Store can, it keeps the file it read open, so that
// its inode cannot be freed and given to a later index.json, which could
// otherwise have the same size and, within the file system's timestamp
// granularity, the same modification time. A tool that rewrote index.json
// in place would keep its inode; such a write is still seen when it
// changes the size or the modification time, which is all that a
// same-size rewrite within one timestamp tick could hide.
//
// An entry also keeps the referrers of the manifests its index lists
// (referrers.go); [indexCache.set] forgets them with the index it replaces.

// holdIndex is whether a Store keeps the index.json it cached open. Not on
// Windows, where an open file cannot be replaced by a rename.
var holdIndex = runtime.GOOS != "windows"

// indexCache is the cached index.json of one repository of a stripe.
type indexCache struct {
	mu   sync.Mutex   // guards the fields below; readers may swap them
	repo string       // the repository, "" for none
	x    *index       // its parsed index.json
	fi   os.FileInfo  // of the file x was read from or written to
	f    *os.File     // that file, held open (holdIndex), or nil
	refs *referrerSet // the referrers of the manifests x lists, or nil
}

// set makes the cache hold x, read from or written to the file f whose
// information is fi, closing the file it held. f may be nil.
func (c *indexCache) set(repo string, x *index, fi os.FileInfo, f *os.File) {
	c.mu.Lock()
	old := c.f
	c.repo, c.x, c.fi, c.f, c.refs = repo, x, fi, nil, nil
	if holdIndex {
		c.f, f = f, nil
	}
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	if f != nil {
		f.Close()
	}
}

// get returns the cached index of repo if index.json, whose information
// is fi, is the file it was read from.
func (c *indexCache) get(repo string, fi os.FileInfo) (*index, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.x == nil || c.repo != repo || !os.SameFile(c.fi, fi) ||
		c.fi.Size() != fi.Size() || !c.fi.ModTime().Equal(fi.ModTime()) {
		return nil, false
	}
	return c.x, true
}

// cache returns the cache entry of repository name.
func (s *Store) cache(name string) *indexCache { return &s.caches[s.stripe(name)] }

// dropIndex forgets the cached index.json of repository name, after a
// failed write, whose edits the cached index may hold.
func (s *Store) dropIndex(name string) {
	c := s.cache(name)
	c.mu.Lock()
	mine := c.repo == name
	c.mu.Unlock()
	if mine {
		c.set("", nil, nil, nil)
	}
}

// closeIndexes closes the files the caches hold.
func (s *Store) closeIndexes() {
	for i := range s.caches {
		s.caches[i].set("", nil, nil, nil)
	}
}

// readIndex returns the index.json of repository name, from the cache
// while the file is unchanged, else read and checked. The caller holds the
// repository's lock, and, if it holds the write lock, may edit the index
// it gets, then must write it ([Store.writeIndex]) or drop it
// ([Store.dropIndex]).
func (s *Store) readIndex(name string) (*index, error) {
	p := s.repoPath(name, indexFile)
	c := s.cache(name)
	fi, err := s.root.Stat(p)
	if err == nil {
		if x, ok := c.get(name, fi); ok {
			return x, nil
		}
	}
	f, err := s.root.Open(p)
	switch {
	case isNotExist(err):
		return nil, invalid(p, "missing")
	case err != nil:
		return nil, fmt.Errorf("repository %q: %w", name, err)
	}
	x, fi, err := s.parseIndex(p, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.set(name, x, fi, f)
	return x, nil
}

// parseIndex reads and checks the index.json f, at p, and returns it with
// the file's information.
func (s *Store) parseIndex(p string, f *os.File) (*index, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, invalid(p, "not a regular file")
	}
	if fi.Size() > maxIndexFile {
		return nil, nil, invalid(p, "%d bytes, more than the %d this package reads", fi.Size(), maxIndexFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIndexFile))
	if err != nil {
		return nil, nil, err
	}
	ix, err := image.ParseIndex(ocispec.MediaTypeImageIndex, b)
	if err != nil {
		return nil, nil, invalid(p, "%v", err)
	}
	return newIndex(ix), fi, nil
}

// writeIndex replaces the index.json of repository name with x, at once,
// as [Store.writeAtomic] does, and caches x as the new file. On failure,
// the cache of the repository is dropped. The caller holds the
// repository's write lock.
func (s *Store) writeIndex(name string, x *index) error {
	ix := x.ix
	ix.Versioned = specs.Versioned{SchemaVersion: 2}
	ix.MediaType = ocispec.MediaTypeImageIndex
	if ix.Manifests == nil {
		ix.Manifests = []ocispec.Descriptor{} // "manifests": [], never null
	}
	b, err := json.Marshal(ix)
	if err != nil {
		s.dropIndex(name)
		return fmt.Errorf("repository %q: encode index.json: %w", name, err)
	}
	f, fi, err := s.writeAtomicFile(name, indexFile, b)
	if err != nil {
		s.dropIndex(name)
		return err
	}
	s.cache(name).set(name, x, fi, f)
	return nil
}
