package regkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/intent"
	"github.com/regkit/regkit/internal/mount"
	"github.com/regkit/regkit/internal/par"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
)

// CopyOptions are the settings of [Copy]. A nil *CopyOptions means the zero
// value; Copy never modifies it.
type CopyOptions struct {
	// Tags are the tags to point at the copy in the destination, applied at
	// the very end, once everything they reference is in place. nil means
	// the source tag when ref is a tag, and no tag when ref is a digest (the
	// copy is then stored by digest only). An empty, non-nil slice means no
	// tag. Every tag is validated before anything is written.
	Tags []string

	// Platforms, when the source is an index (or Docker manifest list),
	// copies only the manifests for these platforms, matched as
	// [image.MatchPlatform] does. With one platform, that platform's
	// manifest itself is copied, digest unchanged, and the tags point at
	// it. With several, a new index of just their entries is made (same
	// media type and annotations, so a new digest) and the tags point at
	// it. A platform the index lacks fails the copy, before anything is
	// written, with an [*image.PlatformError] that lists the platforms it
	// has. Platforms does not apply to a source that is a single manifest,
	// which is copied as it is. nil means every manifest of the index.
	Platforms []ocispec.Platform

	// Referrers also copies the referrers (signatures, SBOMs, attestations)
	// of every manifest copied, and their referrers in turn, each after its
	// subject. If false, referrers are left alone. The walk is bounded (see
	// MaxReferrers and MaxReferrerDepth), so that a source whose referrers
	// never end cannot keep the copy going.
	Referrers bool

	// MaxReferrers is the most referrers a copy with Referrers lists,
	// across all its subjects; one more fails the copy, before anything
	// is written, with a [*transport.LimitError]. If zero,
	// [DefaultMaxReferrers] (10,000); if negative, there is no limit.
	MaxReferrers int

	// MaxReferrerDepth is how deep a copy with Referrers follows referrers
	// of referrers: 1 copies the referrers of the manifests copied, 2 their
	// referrers too, and so on. A referrer deeper than that fails the copy,
	// before anything is written, with a [*transport.LimitError]. If zero,
	// [DefaultMaxReferrerDepth] (16); if negative, there is no limit.
	MaxReferrerDepth int

	// MaxManifests is the most manifests a copy plans: the manifest ref
	// names, those its indexes list, and referrers. An index that lists
	// more, or one referrer more, fails the copy, before anything is
	// written, with a [*transport.LimitError]. If zero,
	// [DefaultMaxManifests] (100,000); if negative, there is no limit.
	MaxManifests int

	// MaxManifestBytes is the most bytes of manifests a copy holds: it
	// reads the manifests dst lacks before it writes any, and keeps them
	// until they are written. One manifest more fails the copy, before
	// anything is written, with a [*transport.LimitError]. If zero,
	// [DefaultMaxManifestBytes] (256 MiB); if negative, there is no limit.
	MaxManifestBytes int64

	// Concurrency is the number of blobs copied at once. If zero or
	// negative, 8. The limits of the transports (see [transport.Limiter])
	// bound it further, across all operations on each registry.
	Concurrency int

	// DryRun resolves ref and reads the source manifests, asks the
	// destination what it already has, and reports what a copy would do,
	// writing nothing. It reports no progress (see [Copy]).
	DryRun bool
}

// The bounds of the referrers a [Copy] with [CopyOptions.Referrers] walks,
// when its options set none. Real images have a few referrers per manifest
// (signatures, SBOMs, attestations, their signatures), a few levels deep.
const (
	DefaultMaxReferrers     = 10_000
	DefaultMaxReferrerDepth = 16
)

// The bounds of the manifests a [Copy] plans, when its options set none.
// Real indexes list a few dozen manifests, and real manifests are a few
// KiB: a copy of a thousand platforms, each with a hundred referrers, stays
// far within them.
const (
	DefaultMaxManifests     = 100_000
	DefaultMaxManifestBytes = 256 << 20
)

// CopyAction says what [Copy] did with one manifest or blob.
type CopyAction int

const (
	// Copied means the bytes were read from the source and written to the
	// destination.
	Copied CopyAction = iota + 1
	// Mounted means the blob was mounted from the source repository into
	// the destination, on the same registry, without moving its bytes.
	Mounted
	// Skipped means the destination already had it.
	Skipped
	// WouldCopy means a dry run found the destination lacks it: a copy
	// would move its bytes.
	WouldCopy
	// WouldMount means a dry run found the destination lacks the blob,
	// which a copy would mount from the source repository.
	WouldMount
)

// String returns "copied", "mounted", "skipped", "would copy" or
// "would mount".
func (a CopyAction) String() string {
	switch a {
	case Copied:
		return "copied"
	case Mounted:
		return "mounted"
	case Skipped:
		return "skipped"
	case WouldCopy:
		return "would copy"
	case WouldMount:
		return "would mount"
	}
	return "unknown"
}

// CopyItem is what [Copy] did with one manifest or blob.
type CopyItem struct {
	// Descriptor describes the manifest or blob.
	Descriptor ocispec.Descriptor
	// Action says what was done with it.
	Action CopyAction
	// Bytes is the number of bytes moved: the size for Copied and
	// WouldCopy, 0 otherwise.
	Bytes int64
}

// CopyReport says what [Copy] did (or, in a dry run, would do).
type CopyReport struct {
	// Descriptor is the manifest the tags point at: the source manifest,
	// the manifest of the one platform asked for, or the new index of the
	// platforms asked for.
	Descriptor ocispec.Descriptor
	// Tags are the tags pointed at Descriptor (in a dry run: that would
	// be).
	Tags []string
	// Manifests are the manifests of the copy, referrers included, in the
	// order they were written: children before parents, subjects before
	// their referrers.
	Manifests []CopyItem
	// Blobs are the configs and layers of the copy, each once.
	Blobs []CopyItem
}

// Count returns the number of manifests and blobs with action a.
func (r *CopyReport) Count(a CopyAction) int {
	n := 0
	for _, items := range [][]CopyItem{r.Manifests, r.Blobs} {
		for _, it := range items {
			if it.Action == a {
				n++
			}
		}
	}
	return n
}

// Bytes returns the number of bytes moved from the source to the
// destination, manifests and blobs together; in a dry run, the number that
// a copy would move.
func (r *CopyReport) Bytes() int64 {
	var n int64
	for _, items := range [][]CopyItem{r.Manifests, r.Blobs} {
		for _, it := range items {
			n += it.Bytes
		}
	}
	return n
}

// Copy copies what ref (a tag or a digest) names in src into dst, which may
// be on another registry: an image, or an index and the images it lists,
// with their configs and layers, then tags it (see [CopyOptions.Tags]).
//
// Manifests are copied byte for byte, so their digests do not change, and in
// an order that never leaves anything half-written visible: blobs before
// the manifests that reference them, children before their index, subjects
// before their referrers, and the tags last. A copy that fails leaves no
// tag of dst pointing anywhere new.
//
// Copy spends as few round trips as it can. What dst already has is not
// copied again (a manifest dst has is taken to come with everything it
// references, as registries ensure). When src and dst are on the same
// registry (their [repository.Repository.Transport] is the same), blobs are
// mounted, not copied; otherwise they stream from src to dst, verified
// against their digest and size on the way, never held whole in memory,
// [CopyOptions.Concurrency] at a time. The first failure stops the others.
//
// Errors say what was being copied ("copy app:3.0 to prod/app: put blob
// sha256:…: …") and match the errors of package transport with
// [errors.Is]: a source that serves bytes that do not match their digest
// gives [transport.ErrDigestInvalid]. opts may be nil.
//
// Copy reports its progress to the observer of ctx (see
// [progress.With]), for the destination only: every event names
// dst's repository, and reading the source reports nothing of its own, so
// no byte counts twice. Each blob reports BlobMounted, or BlobSkipped when
// dst had it, or, when it streams, BlobStarted, BlobBytes as dst reads it,
// BlobVerified when the source's bytes checked out at their end, and
// BlobDone once dst has stored it. Each manifest written to dst reports
// ManifestDone (manifests dst had, and tags, report nothing). A dry run
// reports nothing.
func Copy(ctx context.Context, src *repository.Repository, ref string, dst *repository.Repository, opts *CopyOptions) (*CopyReport, error) {
	return copyKnown(ctx, src, ref, dst, opts, nil)
}

// copyKnown is Copy, with the blobs other copies to dst of the same run
// (a Mirror) have put there or are putting there; nil for none.
func copyKnown(ctx context.Context, src *repository.Repository, ref string, dst *repository.Repository, opts *CopyOptions, known *knownBlobs) (*CopyReport, error) {
	var o CopyOptions
	if opts != nil {
		o = *opts
	}
	c, err := newCopier(src, ref, dst, o)
	if err != nil {
		return nil, err
	}
	if !o.DryRun {
		c.known = known
	}
	// Copy reports what it writes to dst; the reads of the source that feed
	// it get a context without the observer, and report nothing.
	c.obs, ctx = progress.Take(ctx)
	// One token request per registry: the target's asks for push on dst
	// (and, on one registry, pull on src) before the first read of src.
	ctx = intent.Pull(intent.Push(ctx, c.dt, dst.Name()), c.st, src.Name())
	run := c.run
	if !o.DryRun {
		run = func(ctx context.Context) error { return batched(ctx, dst, c.run) }
	}
	if err := run(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", c.what, err)
	}
	return c.report, nil
}

// newCopier validates the arguments of Copy before anything is read or
// written.
func newCopier(src *repository.Repository, ref string, dst *repository.Repository, o CopyOptions) (*copier, error) {
	if src == nil || dst == nil {
		return nil, errors.New("copy: source and destination repositories must not be nil")
	}
	what := "copy " + src.Name() + ":" + ref + " to " + dst.Name()
	isDigest := spec.IsDigest(ref)
	if isDigest {
		what = "copy " + src.Name() + "@" + ref + " to " + dst.Name()
	}
	fail := func(err error) (*copier, error) { return nil, fmt.Errorf("%s: %w", what, err) }
	if err := spec.CheckName(src.Name()); err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	if err := spec.CheckName(dst.Name()); err != nil {
		return nil, fmt.Errorf("copy: destination: %w", err)
	}
	if err := spec.CheckRef(ref); err != nil {
		return nil, fmt.Errorf("copy %s to %s: %w", src.Name(), dst.Name(), err)
	}
	tags := o.Tags
	if tags == nil && !isDigest {
		tags = []string{ref}
	}
	for _, t := range tags {
		if err := spec.CheckTag(t); err != nil {
			return fail(fmt.Errorf("CopyOptions.Tags: %w", err))
		}
	}
	for i, p := range o.Platforms {
		if p.OS == "" || p.Architecture == "" {
			return fail(fmt.Errorf("%w: platforms[%d] (%s) needs an os and an architecture", image.ErrInvalidPlatform, i, image.FormatPlatform(p)))
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = par.DefaultWorkers
	}
	if o.MaxReferrers == 0 {
		o.MaxReferrers = DefaultMaxReferrers
	}
	if o.MaxReferrerDepth == 0 {
		o.MaxReferrerDepth = DefaultMaxReferrerDepth
	}
	if o.MaxManifests == 0 {
		o.MaxManifests = DefaultMaxManifests
	}
	if o.MaxManifestBytes == 0 {
		o.MaxManifestBytes = DefaultMaxManifestBytes
	}
	o.Tags = append([]string(nil), tags...)
	return &copier{
		src: src, dst: dst, ref: ref, opts: o, what: what,
		st: src.Transport(), dt: dst.Transport(),
		same:    mount.Same(src.Transport(), dst.Transport()),
		visited: map[digest.Digest]bool{},
		blobSet: map[digest.Digest]bool{},
		report:  &CopyReport{Tags: o.Tags},
	}, nil
}
