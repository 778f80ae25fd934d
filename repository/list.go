package repository

import (
	"context"
	"fmt"
	"iter"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/page"
	"github.com/regkit/regkit/transport"
)

// ListOptions are the settings of every listing: [Repository.Tags],
// [Repository.Referrers] (inside [ReferrersOptions]) and the catalog of
// github.com/regkit/regkit/registry.Registry.Repositories. A nil
// *ListOptions means the zero value: pages of the registry's choosing, at
// most [transport.DefaultMaxPages] of them, from the start.
type ListOptions struct {
	// PageSize is the n= of each page request. If zero, the registry
	// chooses; a negative size is refused with [transport.ErrSizeInvalid]
	// by every backend.
	PageSize int
	// MaxPages stops the listing with a [*transport.LimitError] (matching
	// [transport.ErrTooManyPages]) after this many pages. If zero,
	// [transport.DefaultMaxPages] (10,000); if negative, there is no limit.
	MaxPages int
	// Last starts the listing after this entry (the spec's last= cursor),
	// to resume a long listing. Referrers have no such cursor: a listing of
	// them with Last set fails with [transport.ErrUnsupported].
	Last string
}

// start returns the first page request and the page limit of o.
func (o *ListOptions) start() (transport.PageRequest, int) {
	if o == nil {
		return transport.PageRequest{}, 0
	}
	return transport.PageRequest{N: o.PageSize, Last: o.Last}, o.MaxPages
}

// Tags returns an iterator over the repository's tags, in lexical order. It
// fetches pages lazily, as the loop asks for more, and stops fetching when
// the loop stops. An error is yielded once, as the last element. Ranging
// over it again starts over. opts may be nil; it is not modified.
//
// The list includes the tags "sha256-<hex>" that clients keep the
// referrers of a manifest under on registries without the referrers API;
// [tag.IsReferrersFallback] tells them apart from the tags of images.
//
//	for name, err := range repo.Tags(ctx, nil) {
//		if err != nil { return err }
//		fmt.Println(name)
//	}
func (r *Repository) Tags(ctx context.Context, opts *ListOptions) iter.Seq2[string, error] {
	what := "tags of " + r.name
	if r.err != nil {
		return fail[string]("tags", r.err)
	}
	first, maxPages := opts.start()
	return page.All(ctx, what, first, maxPages,
		func(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
			return r.t.ListTags(ctx, r.name, req)
		})
}

// ReferrersOptions are the settings of [Repository.Referrers]: the paging
// of every listing, and a filter only referrers have. A nil
// *ReferrersOptions means all referrers, in pages of the registry's
// choosing.
type ReferrersOptions struct {
	// ArtifactType keeps only referrers of this artifact type
	// ("application/spdx+json"). If empty, all are listed.
	ArtifactType string
	ListOptions
}

// Referrers returns an iterator over the descriptors of the manifests whose
// subject is the manifest subject: its signatures, SBOMs and attestations.
// It pages lazily, like [Repository.Tags]. opts may be nil.
func (r *Repository) Referrers(ctx context.Context, subject digest.Digest, opts *ReferrersOptions) iter.Seq2[ocispec.Descriptor, error] {
	var o ReferrersOptions
	if opts != nil {
		o = *opts
	}
	if err := r.checkDigest(subject); err != nil {
		return fail[ocispec.Descriptor]("referrers", err)
	}
	what := fmt.Sprintf("referrers of %s in %s", subject, r.name)
	if o.Last != "" {
		return fail[ocispec.Descriptor](what, fmt.Errorf("Last %q: the referrers API has no start cursor: %w", o.Last, transport.ErrUnsupported))
	}
	first, maxPages := o.start()
	return page.All(ctx, what, first, maxPages,
		func(ctx context.Context, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
			return r.t.ListReferrers(ctx, r.name, subject, o.ArtifactType, req)
		})
}

// fail returns an iterator that yields err once.
func fail[T any](what string, err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, fmt.Errorf("list %s: %w", what, err))
	}
}
