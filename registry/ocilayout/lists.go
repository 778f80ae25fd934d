package ocilayout

import (
	"context"
	"errors"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// ListTags returns one page of repo's tags in lexical (byte) order: the
// org.opencontainers.image.ref.name annotations of its index.json entries
// that are valid tags, each once. It fails with NAME_UNKNOWN for an unknown
// repository. Paging is described at [Store.ListRepositories].
func (s *Store) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	if err := s.begin(ctx, repo); err != nil {
		return transport.Page[string]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[string]{}, err
	}
	defer s.rlock(repo)()
	if err := s.openRepo(repo); err != nil {
		return transport.Page[string]{}, err
	}
	ix, err := s.readIndex(repo)
	if err != nil {
		return transport.Page[string]{}, err
	}
	return backend.Page(ix.tags(), backend.Identity, req, 0), nil
}

// ListRepositories returns one page of the names of the Store's
// repositories in lexical (byte) order: the directories under the Store's
// directory that hold an oci-layout file and whose path is a valid
// repository name. Hidden directories, the blobs directory of every layout,
// directories whose name cannot be part of a repository name and symbolic
// links are passed over, with all under them. The Store's directory itself
// is no repository, even if it is a layout. A Store of one layout
// ([OpenRepository]) lists its one repository, once it exists.
//
// Nothing is kept between calls: each page reads the tree again, but only
// the part it needs, in name order: the directories on the way to the
// cursor, and those of the page's repositories and of the one after it.
// A page costs those directories' entries, not the whole tree; all the
// entries of a directory it opens are read, so a flat directory of many
// layouts is read whole on every page (but not a file in each layout).
//
// Like [Store.ListTags] and [Store.ListReferrers], it returns the entries
// after req.Next, or after req.Last when Next is empty, and at most req.N of
// them; N 0 means all of them. A negative N fails with SIZE_INVALID. The Next
// cursor of a page is set only when more entries follow; it is the last
// entry of the page (the digest, for referrers), so Next and Last are
// interchangeable.
func (s *Store) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	if err := ctx.Err(); err != nil {
		return transport.Page[string]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[string]{}, err
	}
	if s.single != "" {
		return s.listSingle(req)
	}
	after := req.Last
	if req.Next != "" {
		after = req.Next
	}
	// One name more than the page, to know whether another page follows.
	names := []string{}
	w := newRepoWalk(ctx, s.root, after)
	for req.N == 0 || len(names) <= req.N {
		name, ok, err := w.next()
		if err != nil {
			return transport.Page[string]{}, err
		}
		if !ok {
			break
		}
		names = append(names, name)
	}
	return backend.Page(names, backend.Identity, req, 0), nil
}

// listSingle is ListRepositories for a Store of one layout: its one
// repository, once it exists.
func (s *Store) listSingle(req transport.PageRequest) (transport.Page[string], error) {
	var names []string
	switch err := s.openRepo(s.single); {
	case err == nil:
		names = []string{s.single}
	case !errors.Is(err, transport.ErrNameUnknown):
		return transport.Page[string]{}, err
	}
	return backend.Page(names, backend.Identity, req, 0), nil
}

// ListReferrers returns one page of the descriptors of the manifests of repo
// whose subject is subject, restricted to artifactType when it is not empty,
// ordered by digest. The manifests looked at are those index.json lists,
// tagged or not, which is where [Store.PutManifest] lists every manifest put
// by digest. Each descriptor has the referrer's media type, digest, size,
// artifact type (its artifactType, else its config's media type) and
// annotations. An unknown repository, like an unknown subject, gives an
// empty page, as registries answer the referrers API. Paging is described at
// [Store.ListRepositories]. The manifests are read once for each version of
// index.json and their referrers kept while it is unchanged, so a page costs
// the page, not every referrer; a manifest blob damaged or removed by hand,
// index.json unchanged, is noticed when index.json next changes.
func (s *Store) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	if err := s.begin(ctx, repo); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	subject, err := spec.CheckDigest(string(subject))
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	descs, err := s.referrers(ctx, repo, subject, artifactType)
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	key := func(d ocispec.Descriptor) string { return string(d.Digest) }
	p := backend.Page(descs, key, req, 0)
	cloneAnnotations(p.Items)
	return p, nil
}

// referrers returns the referrers of subject in repo, of artifactType
// unless it is "", sorted by digest; the caller must not modify them.
func (s *Store) referrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	defer s.rlock(repo)()
	if err := s.openRepo(repo); err != nil {
		if errors.Is(err, transport.ErrNameUnknown) {
			return nil, nil
		}
		return nil, err
	}
	ix, err := s.readIndex(repo)
	if err != nil {
		return nil, err
	}
	r, err := s.referrerSetOf(ctx, repo, ix)
	if err != nil {
		return nil, err
	}
	return r.list(subject, artifactType), nil
}
