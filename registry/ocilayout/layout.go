package ocilayout

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// The entries of a layout, and the size limits of what is read whole.
const (
	ociLayoutFile = ocispec.ImageLayoutFile // "oci-layout"
	indexFile     = ocispec.ImageIndexFile  // "index.json"
	blobsDir      = ocispec.ImageBlobsDir   // "blobs"
	// tmpDir holds what is being written in a layout: blobs being
	// uploaded, upload sessions and the next index.json. Its name starts
	// with a dot, which no repository name component can, and it is not
	// under blobs/, so nothing in it is ever read as a blob.
	tmpDir = ".regkit-tmp"

	maxLayoutFile   = 64 << 10 // oci-layout
	maxIndexFile    = 64 << 20 // index.json
	maxManifestSize = 4 << 20  // a blob read to see whether it is a manifest
)

// repoPath returns the path, relative to the Store's directory, of elem
// inside the layout of repository name: under the directory name, or, for
// a Store of one layout ([OpenRepository]), under the Store's directory
// itself. name must have been checked ([Store.check]).
func (s *Store) repoPath(name string, elem ...string) string {
	if s.single != "" {
		name = "."
	}
	return filepath.FromSlash(path.Join(append([]string{name}, elem...)...))
}

// blobPath returns the path of the blob d of repository name:
// name/blobs/<algorithm>/<encoded>. d must have been validated.
func (s *Store) blobPath(name string, d digest.Digest) string {
	return s.repoPath(name, blobsDir, d.Algorithm().String(), d.Encoded())
}

// isNotExist reports whether err says a path does not exist, including
// because one of its parents is a file.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// readFile reads the regular file p, of at most limit bytes.
func (s *Store) readFile(p string, limit int64) ([]byte, error) {
	f, err := s.root.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, invalid(p, "not a regular file")
	}
	if fi.Size() > limit {
		return nil, invalid(p, "%d bytes, more than the %d this package reads", fi.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// openRepo returns nil if repository name exists: its directory holds an
// oci-layout file of version 1.x. It fails with NAME_UNKNOWN when there is
// no oci-layout file, and with [ErrInvalidLayout] when it is unreadable.
func (s *Store) openRepo(name string) error {
	p := s.repoPath(name, ociLayoutFile)
	b, err := s.readFile(p, maxLayoutFile)
	switch {
	case isNotExist(err):
		return backend.NameUnknown(name)
	case err != nil:
		return fmt.Errorf("repository %q: %w", name, err)
	}
	var l ocispec.ImageLayout
	if err := json.Unmarshal(b, &l); err != nil {
		return invalid(p, "%v", err)
	}
	if !strings.HasPrefix(l.Version, "1.") {
		return invalid(p, "unsupported imageLayoutVersion %q", l.Version)
	}
	return nil
}

// ensureRepo makes repository name a layout if it is not one yet: the
// blobs directory, an empty index.json unless one is there, then the
// oci-layout file, which makes it a repository. A crash half-way leaves a
// directory that is no repository yet, which the next call completes. The
// caller holds the repository's write lock.
func (s *Store) ensureRepo(name string) error {
	err := s.openRepo(name)
	if err == nil || !errors.Is(err, transport.ErrNameUnknown) {
		return err
	}
	if err := s.mkdirAll(s.repoPath(name, blobsDir)); err != nil {
		return fmt.Errorf("create repository %q: %w", name, err)
	}
	if _, err := s.root.Stat(s.repoPath(name, indexFile)); isNotExist(err) {
		if err := s.writeIndex(name, newIndex(ocispec.Index{})); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("create repository %q: %w", name, err)
	}
	b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}) // cannot fail
	return s.writeAtomic(name, ociLayoutFile, b)
}

// writeAtomic replaces the file elem of repository name with data: it
// writes a temporary file, syncs it, renames it into place and syncs the
// directory, so that the file is always either the old one or the new one.
func (s *Store) writeAtomic(name, elem string, data []byte) error {
	f, _, err := s.writeAtomicFile(name, elem, data)
	if f != nil {
		f.Close()
	}
	return err
}

// writeAtomicFile is [Store.writeAtomic], returning the new file, still
// open, and its information as written, unless it fails.
func (s *Store) writeAtomicFile(name, elem string, data []byte) (*os.File, os.FileInfo, error) {
	f, tmp, err := s.createTemp(name, elem)
	if err != nil {
		return nil, nil, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	var fi os.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if err == nil {
		err = s.root.Rename(tmp, s.repoPath(name, elem))
	}
	if err != nil {
		f.Close()
		s.dropTemp(name, tmp)
		return nil, nil, fmt.Errorf("repository %q: write %s: %w", name, elem, err)
	}
	s.tidy(name)
	if err := s.syncDir(s.repoPath(name)); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// randomID returns 32 random hex digits.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// createTemp creates a new file in the temporary directory of repository
// name, named after what, and returns it with its path.
func (s *Store) createTemp(name, what string) (*os.File, string, error) {
	file := what + "-" + randomID()
	f, err := s.openTemp(name, file)
	if err != nil {
		return nil, "", err
	}
	return f, s.repoPath(name, tmpDir, file), nil
}

// openTemp creates the file named file in the temporary directory of
// repository name, which it makes if needed. It fails if the file exists.
// Since [Store.tidy] may remove the directory in between, it tries again
// when the directory has gone.
func (s *Store) openTemp(name, file string) (*os.File, error) {
	var err error
	for range 5 {
		if err = s.mkdirAll(s.repoPath(name, tmpDir)); err != nil {
			break
		}
		var f *os.File
		f, err = s.root.OpenFile(s.repoPath(name, tmpDir, file), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !isNotExist(err) {
			return f, err
		}
	}
	return nil, fmt.Errorf("repository %q: %w", name, err)
}

// mkdirAll makes directory p and its parents. Unlike [os.Root.MkdirAll]
// alone, it does not fail when another goroutine makes the same directory
// at the same moment (parallel uploads into a new repository do).
//
// A directory made by another goroutine may also be removed again at once
// (tidy removes an empty temporary directory): then it tries again.
func (s *Store) mkdirAll(p string) error {
	var err error
	for range 5 {
		err = s.root.MkdirAll(p, 0o755)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, serr := s.root.Stat(p)
		switch {
		case serr == nil && fi.IsDir():
			return nil
		case serr != nil && !isNotExist(serr):
			return err
		}
	}
	return err
}

// tidy removes the temporary directory of repository name if it is empty,
// so that a layout at rest has only what the spec describes.
func (s *Store) tidy(name string) { _ = s.root.Remove(s.repoPath(name, tmpDir)) }

// dropTemp removes the temporary file p of repository name, then tidies.
func (s *Store) dropTemp(name, p string) {
	_ = s.root.Remove(p)
	s.tidy(name)
}

// syncDir flushes the entries of directory p to disk, so that a rename in it
// survives a crash. Windows cannot sync directories; there it does nothing.
func (s *Store) syncDir(p string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := s.root.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// publishBlob moves the complete, verified, synced temporary file tmp into
// place as the blob d of repository name, making the repository if needed.
// A file of the blob there already is replaced, at once: it may be damaged,
// and tmp is known to be right. Where the file system refuses to replace it
// (Windows, while a reader has it open), the file there is kept and tmp
// removed. The caller holds the repository's write lock.
func (s *Store) publishBlob(name, tmp string, d digest.Digest) error {
	err := s.ensureRepo(name)
	if err == nil {
		err = s.mkdirAll(filepath.Dir(s.blobPath(name, d)))
	}
	if err == nil {
		if err = s.root.Rename(tmp, s.blobPath(name, d)); err != nil {
			if _, serr := s.statBlob(name, d); serr == nil {
				s.dropTemp(name, tmp) // kept the one there
				return nil
			}
		}
	}
	if err != nil {
		s.dropTemp(name, tmp)
		return fmt.Errorf("repository %q: store blob %s: %w", name, d, err)
	}
	s.tidy(name)
	return s.syncDir(filepath.Dir(s.blobPath(name, d)))
}

// statBlob returns the size of the blob d of repository name. It fails with
// BLOB_UNKNOWN when there is no such file, and with [ErrInvalidLayout] when
// it is not a regular file.
func (s *Store) statBlob(name string, d digest.Digest) (int64, error) {
	p := s.blobPath(name, d)
	fi, err := s.root.Stat(p)
	switch {
	case isNotExist(err):
		return 0, backend.BlobUnknown(name, d)
	case err != nil:
		return 0, fmt.Errorf("repository %q: %w", name, err)
	case !fi.Mode().IsRegular():
		return 0, invalid(p, "not a regular file")
	}
	return fi.Size(), nil
}
