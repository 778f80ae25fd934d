package ocilayout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
)

// TestBehaviourSingle runs the behaviour suite against Stores of one layout
// ([ocilayout.OpenRepository]). The suite uses many repositories, and a
// Store of one layout holds one, so each repository of the suite is a
// layout directory of its own, opened with OpenRepository by layouts below;
// only the catalog and the mount between two repositories are layouts'
// own, everything else is the Store of one layout.
func TestBehaviourSingle(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) transport.Transport {
		l := &layouts{dir: t.TempDir(), repos: map[string]*ocilayout.Repository{}}
		t.Cleanup(l.close)
		return l
	})
}

// layouts is a registry whose every repository is one layout directory,
// opened with OpenRepository.
type layouts struct {
	dir   string
	mu    sync.Mutex
	repos map[string]*ocilayout.Repository // by the suite's name
}

var _ transport.TagDeleter = (*layouts)(nil)

// open returns the Store of repository name and the name it knows it by.
func (l *layouts) open(name string) (*ocilayout.Store, string, error) {
	if err := spec.CheckName(name); err != nil {
		return nil, "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.repos[name]
	if !ok {
		var err error
		r, err = ocilayout.OpenRepository(filepath.Join(l.dir, fmt.Sprintf("r%d", len(l.repos))))
		if err != nil {
			return nil, "", err
		}
		l.repos[name] = r
	}
	return r.Store, r.Name(), nil
}

func (l *layouts) close() {
	for _, r := range l.repos {
		r.Close()
	}
}

func (l *layouts) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return s.GetManifest(ctx, n, ref)
}

func (l *layouts) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return s.HeadManifest(ctx, n, ref)
}

func (l *layouts) PutManifest(ctx context.Context, repo, ref, mt string, body []byte, o *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return s.PutManifest(ctx, n, ref, mt, body, o)
}

func (l *layouts) DeleteManifest(ctx context.Context, repo, ref string) error {
	s, n, err := l.open(repo)
	if err != nil {
		return err
	}
	return s.DeleteManifest(ctx, n, ref)
}

func (l *layouts) DeleteTag(ctx context.Context, repo, tag string) (transport.TagDeletion, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return 0, err
	}
	return s.DeleteTag(ctx, n, tag)
}

func (l *layouts) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return s.StatBlob(ctx, n, d)
}

func (l *layouts) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return s.GetBlob(ctx, n, d)
}

func (l *layouts) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	s, n, err := l.open(repo)
	if err != nil {
		return err
	}
	return s.PutBlob(ctx, n, desc, r)
}

// MountBlob copies the blob between two layouts, which share no directory.
func (l *layouts) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	s, n, err := l.open(repo)
	if err != nil {
		return err
	}
	if from == repo {
		return s.MountBlob(ctx, n, n, d)
	}
	fs, fn, err := l.open(from)
	if err != nil {
		return err
	}
	rc, desc, err := fs.GetBlob(ctx, fn, d)
	if errors.Is(err, transport.ErrNameUnknown) {
		err = backend.BlobUnknown(from, d)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.PutBlob(ctx, n, desc, rc)
}

func (l *layouts) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	s, n, err := l.open(repo)
	if err != nil {
		return err
	}
	return s.DeleteBlob(ctx, n, d)
}

func (l *layouts) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return nil, err
	}
	return s.StartUpload(ctx, n)
}

func (l *layouts) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	s, n, err := l.open(repo)
	if err != nil {
		return nil, err
	}
	return s.ResumeUpload(ctx, n, id)
}

func (l *layouts) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	s, n, err := l.open(repo)
	if err != nil {
		return transport.Page[string]{}, err
	}
	return s.ListTags(ctx, n, req)
}

// ListRepositories lists the suite's names of the layouts whose Store lists
// their repository.
func (l *layouts) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[string]{}, err
	}
	l.mu.Lock()
	repos := make(map[string]*ocilayout.Repository, len(l.repos))
	for name, r := range l.repos {
		repos[name] = r
	}
	l.mu.Unlock()
	var names []string
	for name, r := range repos {
		page, err := r.Store.ListRepositories(ctx, transport.PageRequest{})
		if err != nil {
			return transport.Page[string]{}, err
		}
		if slices.Equal(page.Items, []string{r.Name()}) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return backend.Page(names, backend.Identity, req, 0), nil
}

func (l *layouts) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	s, n, err := l.open(repo)
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	return s.ListReferrers(ctx, n, subject, artifactType, req)
}
