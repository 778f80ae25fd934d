package fake

import (
	"context"
	"maps"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// ListTags returns one page of repo's tags in lexical (byte) order. It fails
// with NAME_UNKNOWN for an unknown repository. Paging is described at
// [Store.ListRepositories].
func (s *Store) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return transport.Page[string]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[string]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.repoErr(repo)
	if err != nil {
		return transport.Page[string]{}, err
	}
	return listPage(r.tagList, req, s.maxPage, nil), nil
}

// ListRepositories returns one page of the names of the store's
// repositories in lexical (byte) order.
//
// Like [Store.ListTags] and [Store.ListReferrers], it returns the entries
// after req.Next, or after req.Last when Next is empty, and at most req.N of
// them; N 0 means all of them, and either is capped by [WithMaxPageSize]. A
// negative N fails with SIZE_INVALID (the distribution registry's
// PAGINATION_NUMBER_INVALID is no OCI code). The Next cursor of a page is
// set only when more entries follow; it is the last entry of the page (the
// digest, for referrers), so Next and Last are interchangeable.
func (s *Store) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	if err := ctx.Err(); err != nil {
		return transport.Page[string]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[string]{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return listPage(s.names, req, s.maxPage, nil), nil
}

// ListReferrers returns one page of the descriptors of the manifests of repo
// whose subject is subject, restricted to artifactType when it is not empty,
// ordered by digest. Each descriptor has the referrer's media type, digest,
// size, artifact type (its artifactType, else its config's media type) and
// annotations. An unknown repository, like an unknown subject, gives an empty
// page, as registries answer the referrers API. Paging is described at
// [Store.ListRepositories].
func (s *Store) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	subject, err := spec.CheckDigest(string(subject))
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	var keep func(ocispec.Descriptor) bool
	if artifactType != "" {
		keep = func(d ocispec.Descriptor) bool { return d.ArtifactType == artifactType }
	}
	s.mu.RLock()
	refs := emptyReferrers
	if r := s.repos[repo]; r != nil && r.referrers[subject] != nil {
		refs = r.referrers[subject]
	}
	p := listPage(refs, req, s.maxPage, keep)
	s.mu.RUnlock()
	for i := range p.Items {
		p.Items[i].Annotations = maps.Clone(p.Items[i].Annotations)
	}
	return p, nil
}

// emptyReferrers is the list of referrers of a subject that has none.
var emptyReferrers = newSortedList(descriptorDigest)
