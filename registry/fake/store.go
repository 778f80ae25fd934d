package fake

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

var _ transport.Transport = (*Store)(nil)

// Option configures a [Store] made by [NewStore] (or [New]).
type Option func(*Store)

// WithMaxPageSize caps the number of entries of one page of tags,
// repositories or referrers at n, as real registries do (ECR allows 1000): a
// larger or zero [transport.PageRequest.N] gets n entries, and a Next cursor
// when more follow. n == 0 means the default, no cap, as does n < 0.
func WithMaxPageSize(n int) Option {
	return func(s *Store) { s.maxPage = backend.Setting(n, 0) }
}

// Store is an in-memory registry that implements [transport.Transport].
//
// Blobs are stored once, under their digest, whichever repositories hold
// them; a repository sees a blob only once it was pushed or mounted there. A
// repository exists once a blob or a manifest was committed to it, and then
// stays, even if everything in it is deleted. Upload sessions expire once
// idle for an hour, and at most 1000 are open at once (see
// [WithUploadExpiry], [WithMaxUploads], [WithMaxUploadBytes]), so clients
// that abandon sessions cannot fill the memory. On Linux, a blob or an
// upload larger than 1 MiB keeps its bytes in a file in memory (memfd), out
// of the Go heap, and takes one file descriptor while stored or read;
// where there is none, it stays in the heap. A Store is safe for
// concurrent use; its zero value is not usable, make one with [NewStore].
type Store struct {
	maxPage        int              // 0: no cap
	uploadExpiry   time.Duration    // 0: sessions never expire
	maxUploads     int              // 0: no bound
	maxUploadBytes int64            // 0: no bound
	now            func() time.Time // the clock sessions expire by

	uploadBytes atomic.Int64 // the bytes the open sessions hold
	files       files        // where large contents keep their bytes

	mu      sync.RWMutex
	blobs   map[digest.Digest]*blobEntry
	repos   map[string]*repository
	names   *sortedList[string] // the names of repos, as the catalog lists them
	uploads map[string]*upload
	idle    list.List // the sessions of uploads, least recently resumed first
}

// blobEntry is a blob's content and the number of repositories holding it.
type blobEntry struct {
	data *content // never changed once published; held by the entry
	refs int
}

// repository is what one repository holds. Its maps and lists are guarded
// by Store.mu.
type repository struct {
	blobs     map[digest.Digest]struct{}
	manifests map[digest.Digest]*manifestEntry
	tags      map[string]digest.Digest
	tagList   *sortedList[string] // the keys of tags, as they are listed
	// referrers maps a subject digest to the descriptors of the manifests
	// that name it, sorted by their digest, as they are listed.
	referrers map[digest.Digest]*sortedList[ocispec.Descriptor]
}

// NewStore returns an empty Store configured by opts.
func NewStore(opts ...Option) *Store {
	s := &Store{
		uploadExpiry: backend.DefaultUploadExpiry,
		maxUploads:   backend.DefaultMaxUploads,
		now:          time.Now,
		blobs:        make(map[digest.Digest]*blobEntry),
		repos:        make(map[string]*repository),
		names:        newSortedList(identity),
		uploads:      make(map[string]*upload),
	}
	s.files.spillAt, s.files.open = chunkSize, openMemfd
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// BlobCount reports how many distinct blobs the store holds. A blob held by
// several repositories, pushed or mounted, counts once. It is meant for tests.
func (s *Store) BlobCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.blobs)
}

// Uploads reports how many upload sessions are open: started, and neither
// committed, cancelled nor expired (see [WithUploadExpiry]). It releases
// the expired ones first, so a server that runs for long may call it now
// and then to free their bytes without waiting for the next upload, as
// examples/serve does.
func (s *Store) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	return len(s.uploads)
}

// UploadBytes reports how many bytes the open upload sessions hold
// together, the bytes [WithMaxUploadBytes] bounds. It is meant for tests.
func (s *Store) UploadBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	return s.uploadBytes.Load()
}

// repoErr returns the repository name, or a NAME_UNKNOWN error. The caller
// holds s.mu.
func (s *Store) repoErr(name string) (*repository, error) {
	r := s.repos[name]
	if r == nil {
		return nil, backend.NameUnknown(name)
	}
	return r, nil
}

// createRepo returns the repository name, creating it if needed. The caller
// holds s.mu for writing.
func (s *Store) createRepo(name string) *repository {
	r := s.repos[name]
	if r == nil {
		r = &repository{
			blobs:     make(map[digest.Digest]struct{}),
			manifests: make(map[digest.Digest]*manifestEntry),
			tags:      make(map[string]digest.Digest),
			tagList:   newSortedList(identity),
			referrers: make(map[digest.Digest]*sortedList[ocispec.Descriptor]),
		}
		s.repos[name] = r
		s.names.set(name)
	}
	return r
}
