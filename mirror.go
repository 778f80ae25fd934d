package regkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/regkit/regkit/internal/par"
	"github.com/regkit/regkit/internal/semver"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/tag"
	"github.com/regkit/regkit/transport"
)

// MirrorOptions are the settings of [Mirror]. A nil *MirrorOptions means
// the zero value: every tag, with its referrers, [DefaultMirrorConcurrency]
// tags at a time. Mirror never modifies it.
type MirrorOptions struct {
	// Tags, if set, selects the tags to mirror: those it returns true for.
	// It is called once per tag of the source, from one goroutine, and
	// never for referrers fallback tags (see [tag.IsReferrersFallback]),
	// which are never mirrored as tags.
	Tags func(tag string) bool

	// Versions, if not empty, selects the tags that read as versions
	// within this constraint: comparisons joined by "," (all must hold)
	// and "||" (either side may), such as ">=1.2, <2.0" or
	// "1.4.2 || >=2". The operators are =, !=, >, >=, < and <= (none is
	// =). A tag is a version if it is [v]major[.minor[.patch]], missing
	// parts being 0 ("v1.2" is 1.2.0), with an optional -prerelease;
	// prereleases order as semantic versioning says, below their release
	// (2.0.0-rc.1 < 2.0.0, so "<2.0" selects 2.0.0-rc.1; "<2.0.0-0" does
	// not). Tags that are not versions ("latest") are not selected. A
	// constraint that does not parse fails Mirror, before any request,
	// with a [*ConstraintError]. With Tags too, a tag must pass both.
	Versions string

	// NoReferrers leaves the referrers (signatures, SBOMs, attestations)
	// of the images alone. By default, each image copied comes with its
	// referrers, and theirs, as [CopyOptions.Referrers] copies them.
	NoReferrers bool

	// Concurrency is the number of tags mirrored at once; each copies its
	// blobs as [Copy] does. If zero, [DefaultMirrorConcurrency]; a
	// negative value is refused with an error, as a concurrency cannot be
	// off. The limits of the transports (see [transport.Limiter]) bound
	// the transfers further.
	Concurrency int

	// DryRun resolves every tag, asks the destination what it has, and
	// reports what a mirror would do ([MirrorWouldCopy], with the
	// [CopyReport] of a dry-run [Copy]), writing nothing.
	DryRun bool
}

// DefaultMirrorConcurrency is how many tags a [Mirror] copies at once when
// its options say nothing.
const DefaultMirrorConcurrency = 4

// Mirror copies the tags of src into dst (another registry, the same one,
// or an OCI layout on disk): every tag, or those [MirrorOptions.Tags] and
// [MirrorOptions.Versions] select, each with the image or index it names
// and, unless [MirrorOptions.NoReferrers], that image's referrers. The
// referrers fallback tags of src ("sha256-<hex>", see
// [tag.IsReferrersFallback]) are not mirrored as tags: the referrers they
// list come with their images, and dst gets its own, if it needs them.
//
// It lists src's tags, then, [MirrorOptions.Concurrency] tags at a time,
// resolves each in src and in dst (one HEAD each): a tag dst already has
// at the same digest is up to date and costs nothing more, so a second
// Mirror copies nothing; it does not look for referrers added in src since
// the tag was mirrored either (copy that tag with [Copy] and
// [CopyOptions.Referrers] to bring them). Other tags are copied by [Copy], by digest, with
// the tag applied last, which reuses what dst has (blobs and manifests)
// and mounts blobs within one registry.
//
// One failing tag does not stop the others: the report says which failed
// and why, and the error returned joins their errors ([errors.Join]), each
// naming its tag. An invalid argument (nil repositories, a bad name, a
// negative Concurrency, a [*ConstraintError]) fails Mirror before any
// request, and a failure to list src's tags before any copy; both return a
// nil report. opts may be nil.
//
// When dst offers to batch its tag writes ([transport.TagBatcher], as an
// OCI layout does), the tags are written together once every copy has
// ended: a layout's index.json is rewritten once, not once per tag.
//
// Each copy reports its progress to the observer of ctx, as [Copy] does;
// events of several tags interleave.
func Mirror(ctx context.Context, src, dst *repository.Repository, opts *MirrorOptions) (*MirrorReport, error) {
	var o MirrorOptions
	if opts != nil {
		o = *opts
	}
	m, err := newMirror(src, dst, o)
	if err != nil {
		return nil, err
	}
	rep, err := m.selectTags(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.what, err)
	}
	var ferr error
	copyAll := func(ctx context.Context) error {
		ferr = par.ForEach(ctx, m.concurrency, len(rep.Tags), func(ctx context.Context, i int) error {
			m.mirrorTag(ctx, &rep.Tags[i])
			return nil
		})
		return nil
	}
	var werr error // the failure to write the tags of the batch
	if o.DryRun {
		_ = copyAll(ctx)
	} else {
		werr = batched(ctx, m.dst, copyAll)
	}
	var errs []error
	for i := range rep.Tags {
		t := &rep.Tags[i]
		switch {
		case t.Action == 0: // not started: ctx ended first
			t.Action, t.Err = MirrorFailed, endErr(ctx, ferr)
		case t.Action == MirrorCopied && werr != nil:
			t.Action, t.Err = MirrorFailed, fmt.Errorf("write tags: %w", werr)
		}
		if t.Err != nil {
			errs = append(errs, fmt.Errorf("%s, tag %s: %w", m.what, t.Tag, t.Err))
		}
	}
	return rep, errors.Join(errs...)
}

// endErr returns the error that ended a run early: ferr, or the cause of
// ctx.
func endErr(ctx context.Context, ferr error) error {
	if ferr != nil {
		return ferr
	}
	return context.Cause(ctx)
}

// mirror is one run of Mirror, its arguments checked.
type mirror struct {
	src, dst    *repository.Repository
	opts        MirrorOptions
	versions    *semver.Constraint // nil: no constraint
	concurrency int
	what        string      // "mirror app to prod/app", the prefix of errors
	known       *knownBlobs // the blobs the copies made sure dst has
}

// newMirror validates the arguments of Mirror before any request.
func newMirror(src, dst *repository.Repository, o MirrorOptions) (*mirror, error) {
	if src == nil || dst == nil {
		return nil, errors.New("mirror: source and destination repositories must not be nil")
	}
	if err := spec.CheckName(src.Name()); err != nil {
		return nil, fmt.Errorf("mirror: source: %w", err)
	}
	if err := spec.CheckName(dst.Name()); err != nil {
		return nil, fmt.Errorf("mirror: destination: %w", err)
	}
	m := &mirror{src: src, dst: dst, opts: o, concurrency: o.Concurrency,
		what: "mirror " + src.Name() + " to " + dst.Name(), known: newKnownBlobs()}
	switch {
	case o.Concurrency < 0:
		return nil, fmt.Errorf("%s: MirrorOptions.Concurrency %d: must not be negative", m.what, o.Concurrency)
	case o.Concurrency == 0:
		m.concurrency = DefaultMirrorConcurrency
	}
	if o.Versions != "" {
		c, err := semver.ParseConstraint(o.Versions)
		if err != nil {
			return nil, fmt.Errorf("%s: MirrorOptions.Versions: %w", m.what, &ConstraintError{Constraint: o.Versions, Err: err})
		}
		m.versions = &c
	}
	return m, nil
}

// selectTags lists the tags of src and sorts them into the report: those
// to mirror, those left out, and the referrers fallback tags.
func (m *mirror) selectTags(ctx context.Context) (*MirrorReport, error) {
	rep := &MirrorReport{}
	for name, err := range m.src.Tags(ctx, nil) {
		if err != nil {
			return nil, err
		}
		switch {
		case tag.IsReferrersFallback(name):
			rep.Fallback = append(rep.Fallback, name)
		case m.selects(name):
			rep.Tags = append(rep.Tags, MirroredTag{Tag: name})
		default:
			rep.Unselected = append(rep.Unselected, name)
		}
	}
	return rep, nil
}

// selects reports whether the options select the tag name.
func (m *mirror) selects(name string) bool {
	if m.opts.Tags != nil && !m.opts.Tags(name) {
		return false
	}
	if m.versions != nil {
		v, ok := semver.Parse(name)
		return ok && m.versions.Match(v)
	}
	return true
}

// mirrorTag mirrors one tag and records the outcome in t.
func (m *mirror) mirrorTag(ctx context.Context, t *MirroredTag) {
	fail := func(err error) { t.Action, t.Err = MirrorFailed, err }
	desc, err := m.src.Resolve(ctx, t.Tag)
	if err != nil {
		fail(fmt.Errorf("resolve in %s: %w", m.src.Name(), err))
		return
	}
	t.Digest = desc.Digest
	have, err := m.dst.Resolve(ctx, t.Tag)
	switch {
	case err == nil && have.Digest == desc.Digest:
		t.Action = MirrorUpToDate
		return
	case err != nil && !errors.Is(err, transport.ErrNotFound):
		fail(fmt.Errorf("resolve in %s: %w", m.dst.Name(), err))
		return
	}
	rep, err := copyKnown(ctx, m.src, desc.Digest.String(), m.dst, &CopyOptions{
		Tags:      []string{t.Tag},
		Referrers: !m.opts.NoReferrers,
		DryRun:    m.opts.DryRun,
	}, m.known)
	if err != nil {
		fail(err)
		return
	}
	t.Action, t.Copy = MirrorCopied, rep
	if m.opts.DryRun {
		t.Action = MirrorWouldCopy
	}
}
