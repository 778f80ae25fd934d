package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/transport"
)

var (
	_ transport.Transport  = (*Store)(nil)
	_ transport.TagDeleter = (*Store)(nil)
)

// Errors of this package, besides those of package transport.
var (
	// ErrInvalidLayout reports a directory on disk that breaks the OCI
	// image-layout spec, or regkit's reading of it: a malformed oci-layout
	// or index.json file, an index.json entry whose manifest is missing, a
	// blob file that is not a regular file or whose bytes do not hash to its
	// name. Errors that match it say which file is at fault. It is never
	// used for bad input, which gets the errors of package transport.
	ErrInvalidLayout = errors.New("invalid OCI image layout")

	// errClosed is returned by the calls on a closed Store that do not
	// reach the file system; those that do get the [os.ErrClosed] of
	// [os.Root].
	errClosed = fmt.Errorf("ocilayout: store is closed: %w", os.ErrClosed)
)

// Registry is a directory of OCI image layouts seen as a registry: a
// [registry.Registry] (so it has Repository, Repositories and the rest) over
// a [Store] that tests and tools can also use directly.
type Registry struct {
	*registry.Registry
	// Store is the on-disk backend the registry speaks through.
	Store *Store
}

// New returns the registry kept in dir, one OCI image layout per
// repository, creating dir if it does not exist. It reads nothing else:
// layouts are found, and checked, as they are used. Close it when done.
func New(dir string, opts ...Option) (*Registry, error) {
	s, err := NewStore(dir, opts...)
	if err != nil {
		return nil, err
	}
	return &Registry{Registry: registry.FromTransport(s), Store: s}, nil
}

// Close closes the registry's [Store].
func (r *Registry) Close() error { return r.Store.Close() }

// Store implements [transport.Transport] and [transport.TagDeleter] over a
// directory of OCI image layouts, one per repository ([NewStore]), or over
// one layout, its one repository ([OpenRepository]); the package
// documentation describes the layout on disk. A Store is safe for concurrent
// use, and several Stores, in one process or several, may write the same
// directory at once: writes to a repository's index.json take a file lock
// (see the package documentation). Its zero value is not usable: make one
// with [NewStore].
type Store struct {
	root *os.Root // every file access goes through it, so none leaves dir

	// locks guard the repositories: each repository has one of them, chosen
	// by a hash of its name ([Store.stripe]), so that memory stays bounded
	// whatever names callers try. No call holds two at once.
	locks [64]sync.RWMutex

	opts options

	// caches keep the index.json of a repository of each stripe (see
	// cache.go), used under the stripe's lock.
	caches [64]indexCache

	// single is the name of the one repository of a Store over one layout
	// ([OpenRepository]), whose files are the Store's directory itself; it
	// is "" for a directory of layouts.
	single string

	mu        sync.Mutex         // guards the fields below
	uploads   map[string]*upload // open sessions, by ID
	nextSweep time.Time          // when the next sweep of sessions is due
	leftovers map[string]bool    // repositories with recent temporary files at open
	closed    bool
}

// NewStore returns a Store over dir, creating dir if it does not exist. It
// keeps a handle on dir until [Store.Close]: if dir is moved meanwhile, the
// Store follows it. It removes the temporary files that a crash left in
// the layouts of dir, when older than the upload expiry
// ([WithUploadExpiry]).
func NewStore(dir string, opts ...Option) (*Store, error) {
	return newStore(dir, "", opts...)
}

// newStore returns a Store over dir: a directory of layouts when single is
// "", else the one layout of repository single.
func newStore(dir, single string, opts ...Option) (*Store, error) {
	if dir == "" {
		return nil, errors.New("ocilayout: empty directory name")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ocilayout: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("ocilayout: %w", err)
	}
	s := &Store{
		root:      root,
		opts:      o,
		single:    single,
		uploads:   make(map[string]*upload),
		leftovers: make(map[string]bool),
	}
	s.reclaimAll()
	return s, nil
}

// Dir returns the directory the Store was opened on.
func (s *Store) Dir() string { return s.root.Name() }

// Close releases the Store's handle on its directory and discards nothing:
// upload sessions still open stay on disk, and a new Store over the same
// directory can resume them. Every later call fails with an error matching
// [os.ErrClosed]. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ups := make([]*upload, 0, len(s.uploads))
	for _, u := range s.uploads {
		ups = append(ups, u)
	}
	clear(s.uploads)
	s.mu.Unlock()
	for _, u := range ups {
		u.detach()
	}
	s.closeIndexes()
	return s.root.Close()
}

// reserved are the names a repository path component may not take: the
// entries of an image layout, which a nested repository would collide with.
var reserved = map[string]bool{"blobs": true, indexFile: true, ociLayoutFile: true}

// checkRepo returns NAME_INVALID unless name is a valid repository name
// that maps to a directory of its own under the Store's directory: the
// grammar of the distribution spec (lower-case components, no "." or "..",
// no leading "/") and no component named like an entry of a layout
// ("blobs", "index.json", "oci-layout"). The grammar is [backend.CheckRepo],
// shared with registry/fake; the reserved names are this package's own.
func checkRepo(name string) error {
	if err := spec.CheckName(name); err != nil {
		return err
	}
	for c := range strings.SplitSeq(name, "/") {
		if reserved[c] {
			return transport.Errorf(transport.CodeNameInvalid,
				"repository %q: component %q is reserved in an OCI image layout", name, c)
		}
	}
	return nil
}

// begin returns ctx's error if it is done, else the error of
// [Store.check]. Every method starts with it; it is [backend.Begin] with
// this package's stricter names.
func (s *Store) begin(ctx context.Context, repo string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.check(repo)
}

// check returns NAME_INVALID unless repo is a valid repository name
// ([checkRepo]), and, in a Store of one layout, NAME_UNKNOWN unless repo
// is its repository: such a Store holds no other, and makes none.
func (s *Store) check(repo string) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	if s.single != "" && repo != s.single {
		return transport.Errorf(transport.CodeNameUnknown,
			"repository %q not known: the layout %s is repository %q only", repo, s.Dir(), s.single)
	}
	return nil
}

// invalid returns an error matching [ErrInvalidLayout] about the file path
// of the Store's directory.
func invalid(path string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidLayout, path, fmt.Sprintf(format, args...))
}
