package tag

import (
	"context"
	"errors"
	"fmt"
	"github.com/regkit/regkit/internal/spec"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/intent"
	"github.com/regkit/regkit/internal/pull"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// Tag is a movable name in a repository that points at one manifest: an
// image, or an index of images. A Tag is a handle: making one does no I/O,
// and every method asks the registry afresh. It is safe for concurrent use.
type Tag struct {
	t    transport.Transport
	repo string
	name string
	err  error // why the name is invalid, returned by every method
}

// New returns the tag name of repository repo in t. Invalid names are
// reported by every method of the returned Tag, as a
// [transport.ErrTagInvalid] or [transport.ErrNameInvalid] error wrapping the
// [*reference.Error] that says what is wrong.
func New(t transport.Transport, repo, name string) *Tag {
	tg := &Tag{t: t, repo: repo, name: name}
	if tg.err = spec.CheckName(repo); tg.err == nil {
		tg.err = spec.CheckTag(name)
	}
	return tg
}

// Name returns the tag's name ("latest").
func (tg *Tag) Name() string { return tg.name }

// Repository returns the name of the tag's repository.
func (tg *Tag) Repository() string { return tg.repo }

// String returns repository:tag.
func (tg *Tag) String() string { return tg.repo + ":" + tg.name }

// Resolve returns the descriptor of the manifest the tag points at, without
// fetching it, with one HEAD request. A tag that does not exist, in an
// existing or a missing repository, gives an error matching
// [transport.ErrManifestUnknown] on every backend, and also
// [transport.ErrNameUnknown] when the backend knows the repository is
// missing (see "Not found" in package transport). To ask only whether the
// tag is there, use [Tag.Exists].
func (tg *Tag) Resolve(ctx context.Context) (ocispec.Descriptor, error) {
	if tg.err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolve: %w", tg.err)
	}
	desc, err := pull.Head(ctx, tg.t, tg.repo, tg.name)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", tg, err)
	}
	return desc, nil
}

// Exists reports whether the tag exists, at the cost of one HEAD request.
// A missing tag, in an existing or a missing repository, gives false and no
// error; any other failure (an invalid name, a refused credential, a
// registry that cannot be reached) gives false and that error.
func (tg *Tag) Exists(ctx context.Context) (bool, error) {
	_, err := tg.Resolve(ctx)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, transport.ErrManifestUnknown):
		return false, nil
	}
	return false, err
}

// Manifest fetches the exact bytes of the manifest the tag points at, of
// any media type, verified against the digest the registry reports for it.
// A missing tag gives [transport.ErrManifestUnknown], as for [Tag.Resolve].
func (tg *Tag) Manifest(ctx context.Context) (ocispec.Descriptor, []byte, error) {
	if tg.err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("get manifest %s: %w", tg, tg.err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Manifest(ctx, obs, tg.t, tg.repo, tg.name)
}

// Image fetches and verifies the image manifest the tag points at. Its blobs
// are read lazily, and verified as they stream, when opened. If the tag
// points at an index, Image fails with [image.ErrUnsupportedMediaType]: use
// [Tag.PlatformImage] or [Tag.Index]. A missing tag gives
// [transport.ErrManifestUnknown], as for [Tag.Resolve].
func (tg *Tag) Image(ctx context.Context) (*image.Image, error) {
	if tg.err != nil {
		return nil, fmt.Errorf("get image: %w", tg.err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Image(ctx, obs, tg.t, tg.repo, tg.name)
}

// PlatformImage fetches the image for platform p: the image the tag points
// at, or, when it points at an index, the index's image for p. When the
// index has none it fails with an [*image.PlatformError] that lists the
// platforms there are. A missing tag gives [transport.ErrManifestUnknown],
// as for [Tag.Resolve].
func (tg *Tag) PlatformImage(ctx context.Context, p ocispec.Platform) (*image.Image, error) {
	if tg.err != nil {
		return nil, fmt.Errorf("get image: %w", tg.err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.PlatformImage(ctx, obs, tg.t, tg.repo, tg.name, p)
}

// Index fetches and verifies the index the tag points at. A missing tag
// gives [transport.ErrManifestUnknown], as for [Tag.Resolve].
func (tg *Tag) Index(ctx context.Context) (*image.Index, error) {
	if tg.err != nil {
		return nil, fmt.Errorf("get index: %w", tg.err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Index(ctx, obs, tg.t, tg.repo, tg.name)
}

// Point makes the tag point at the manifest desc describes, which must
// already be in the repository (otherwise [transport.ErrManifestUnknown]).
// It uploads no blobs: it reads the manifest by digest and stores it again
// under the tag's name; a manifest named by another digest than sha256 is
// stored again by that digest, with the tag
// ([transport.PutManifestOptions.Tags]), so that the tag names it by that
// digest where the backend can.
func (tg *Tag) Point(ctx context.Context, desc ocispec.Descriptor) error {
	return tg.point(ctx, desc, nil)
}

// PointIf is [Tag.Point] guarded against concurrent writers: it moves the tag
// only if the tag still points at current, and otherwise fails with
// [transport.ErrPreconditionFailed] and changes nothing.
func (tg *Tag) PointIf(ctx context.Context, desc ocispec.Descriptor, current digest.Digest) error {
	if _, err := spec.CheckDigest(string(current)); err != nil {
		return fmt.Errorf("point %s: current %w", tg, err)
	}
	return tg.point(ctx, desc, &transport.PutManifestOptions{IfMatch: current})
}

func (tg *Tag) point(ctx context.Context, desc ocispec.Descriptor, opts *transport.PutManifestOptions) error {
	if tg.err != nil {
		return fmt.Errorf("point: %w", tg.err)
	}
	obs, ctx := progress.Take(ctx)
	ctx = intent.Push(ctx, tg.t, tg.repo) // one token for the read and the put
	got, raw, err := pull.Manifest(ctx, obs, tg.t, tg.repo, desc.Digest.String())
	if err != nil {
		return fmt.Errorf("point %s at %s: %w", tg, desc.Digest, err)
	}
	ref := tg.name
	if opts == nil && got.Digest.Algorithm() != digest.Canonical {
		// Put by its digest, with the tag: a put by tag would name it by
		// its sha256 digest.
		ref, opts = got.Digest.String(), &transport.PutManifestOptions{Tags: []string{tg.name}}
	}
	if _, err := tg.t.PutManifest(ctx, tg.repo, ref, got.MediaType, raw, opts); err != nil {
		return fmt.Errorf("point %s at %s: %w", tg, desc.Digest, err)
	}
	return nil
}

// Delete removes the tag. The manifest it pointed at, and other tags that
// point at it, stay. It reports how the tag was deleted: registries without a
// tag DELETE get the tag pointed at a placeholder manifest that is then
// deleted (see [transport.TagDeleter]).
func (tg *Tag) Delete(ctx context.Context) (transport.TagDeletion, error) {
	if tg.err != nil {
		return 0, fmt.Errorf("delete: %w", tg.err)
	}
	if td, ok := transport.Find[transport.TagDeleter](tg.t); ok {
		how, err := td.DeleteTag(ctx, tg.repo, tg.name)
		if err != nil {
			return 0, fmt.Errorf("delete %s: %w", tg, err)
		}
		return how, nil
	}
	if err := tg.t.DeleteManifest(ctx, tg.repo, tg.name); err != nil {
		return 0, fmt.Errorf("delete %s: %w", tg, err)
	}
	return transport.TagDeleted, nil
}
