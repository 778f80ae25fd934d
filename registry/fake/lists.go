package fake

import (
	"cmp"
	"context"
	"maps"
	"slices"

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
	r, err := s.repoErr(repo)
	if err != nil {
		s.mu.RUnlock()
		return transport.Page[string]{}, err
	}
	tags := slices.Collect(maps.Keys(r.tags))
	s.mu.RUnlock()
	slices.Sort(tags)
	return backend.Page(tags, backend.Identity, req, s.maxPage), nil
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
	names := slices.Collect(maps.Keys(s.repos))
	s.mu.RUnlock()
	slices.Sort(names)
	return backend.Page(names, backend.Identity, req, s.maxPage), nil
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
	var descs []ocispec.Descriptor
	s.mu.RLock()
	if r := s.repos[repo]; r != nil {
		for _, desc := range r.referrers[subject] {
			if artifactType == "" || desc.ArtifactType == artifactType {
				desc.Annotations = maps.Clone(desc.Annotations)
				descs = append(descs, desc)
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(descs, func(a, b ocispec.Descriptor) int { return cmp.Compare(a.Digest, b.Digest) })
	key := func(d ocispec.Descriptor) string { return string(d.Digest) }
	return backend.Page(descs, key, req, s.maxPage), nil
}
