package ocilayout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// ErrNotLayout reports, from [OpenRepository], a directory that is not an
// OCI image layout: it has no oci-layout file but holds other files (a
// directory of layouts, which [New] opens, or anything else). It is never
// turned into a layout.
var ErrNotLayout = errors.New("not an OCI image layout")

// DefaultRepositoryName is the name of the repository [OpenRepository]
// opens when the base name of its directory is not a valid repository
// name.
const DefaultRepositoryName = "layout"

// Repository is one OCI image layout directory seen as a repository: a
// [repository.Repository] (so it has Push, Tag, Tags, Resolve, Image,
// Delete and the rest) over a [Store] that holds that layout only.
type Repository struct {
	*repository.Repository
	// Store is the on-disk backend the repository speaks through. It
	// knows the one repository, by the name [Repository.Name] returns.
	Store *Store
}

// OpenRepository returns the OCI image layout in dir as one repository:
// the directory that `skopeo copy … oci:dir:tag` or BuildKit's OCI
// exporter writes, with its oci-layout file, index.json and blobs/ at the
// top, and tags as the org.opencontainers.image.ref.name annotations of
// index.json. Close it when done.
//
// The repository is named after dir's base name when that is a valid
// repository name without a "/" (./build/oci is "oci"), else
// [DefaultRepositoryName]. The name only shows in errors and in
// [Repository.Name]: it is not written to the layout.
//
// A missing directory is created, empty. An empty directory, like a
// missing one, is a repository that does not exist yet (reads fail with
// [transport.ErrNameUnknown]) until the first write (a push, a blob, a tag)
// makes it a layout, as skopeo does when it copies into oci:dir. A
// directory that has no oci-layout file but other files is no layout: it
// fails with an error matching [ErrNotLayout], and nothing is written. A
// malformed oci-layout file fails with [ErrInvalidLayout].
//
// Besides the files of the layout, the directory keeps a hidden
// .regkit-lock directory of lock files, which layout tools ignore.
// Do not open a layout both this way and, through its parent directory,
// with [New] at the same time: the two Stores take different lock files.
func OpenRepository(dir string, opts ...Option) (*Repository, error) {
	if dir == "" {
		return nil, errors.New("ocilayout: empty directory name")
	}
	name := repositoryName(dir)
	if err := checkLayoutDir(dir); err != nil {
		return nil, err
	}
	s, err := newStore(dir, name, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.openRepo(name); err != nil && !errors.Is(err, transport.ErrNameUnknown) {
		s.Close()
		return nil, fmt.Errorf("ocilayout: %w", err)
	}
	return &Repository{Repository: repository.New(s, name), Store: s}, nil
}

// Close closes the repository's [Store].
func (r *Repository) Close() error { return r.Store.Close() }

// repositoryName returns the name of the repository of the layout dir.
func repositoryName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	name := filepath.Base(dir)
	if checkRepo(name) != nil {
		return DefaultRepositoryName
	}
	return name
}

// layoutEntries are the entries a directory may hold with no oci-layout
// file and still be a layout in the making: those that the first write to
// a repository makes before its oci-layout file, and the Store's own.
var layoutEntries = map[string]bool{blobsDir: true, indexFile: true, tmpDir: true, lockDir: true}

// checkLayoutDir returns an error matching [ErrNotLayout] unless dir is
// missing, empty, a layout (it has an oci-layout file) or a layout in the
// making (it holds only the entries of layoutEntries).
func checkLayoutDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil && !isDir(dir):
		return fmt.Errorf("ocilayout: %s: %w: not a directory", dir, ErrNotLayout)
	case err != nil:
		return fmt.Errorf("ocilayout: %w", err)
	}
	for _, e := range ents {
		if e.Name() == ociLayoutFile {
			return nil
		}
	}
	for _, e := range ents {
		if !layoutEntries[e.Name()] {
			return fmt.Errorf("ocilayout: %s: %w: it has no %s file but holds %q (ocilayout.New opens a directory of layouts)",
				dir, ErrNotLayout, ociLayoutFile, e.Name())
		}
		if e.Name() == indexFile {
			if err := checkEmptyIndex(filepath.Join(dir, indexFile)); err != nil {
				return fmt.Errorf("ocilayout: %s: %w: it has no %s file, and its %s %w", dir, ErrNotLayout, ociLayoutFile, indexFile, err)
			}
		}
	}
	return nil
}

// checkEmptyIndex returns an error unless the file at p is an image index
// that lists nothing: the index.json that a first write, interrupted before
// its oci-layout file, leaves. Another index.json, in a directory with no
// oci-layout file, belongs to something that is no layout of ours.
func checkEmptyIndex(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var ix ocispec.Index
	if err := json.NewDecoder(io.LimitReader(f, maxLayoutFile)).Decode(&ix); err != nil {
		return fmt.Errorf("is no image index: %v", err)
	}
	if len(ix.Manifests) > 0 {
		return fmt.Errorf("lists %d manifests", len(ix.Manifests))
	}
	return nil
}

// isDir reports whether p is a directory.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
