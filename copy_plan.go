package regkit

import (
	"context"
	"errors"
	"fmt"
	"github.com/regkit/regkit/internal/spec"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// copier is one run of Copy. It first plans (reads the source manifests and
// asks the destination what it has), then writes blobs, manifests and tags,
// in that order.
type copier struct {
	src, dst *repository.Repository
	st, dt   transport.Transport
	ref      string
	opts     CopyOptions // Tags settled, Concurrency and bounds not zero
	what     string      // "copy app:3.0 to prod/app", the prefix of errors
	same     bool        // src and dst are on the same registry
	obs      progress.Observer

	visited  map[digest.Digest]bool // manifests planned
	blobSet  map[digest.Digest]bool // blobs planned
	nodes    []*node                // manifests, in write order
	blobs    []ocispec.Descriptor   // blobs, each once
	subjects []subject              // manifests whose referrers to copy
	depth    int                    // referrer depth of what visit plans now
	walked   int                    // referrers listed so far
	held     int64                  // bytes of the manifests planned
	target   *node                  // what the tags point at
	tagged   int                    // how many of opts.Tags were applied
	report   *CopyReport
}

// maxIndexNesting is how deep indexes may list indexes in a copy: real
// images have one index, and rarely an index of indexes.
const maxIndexNesting = 8

// subject is a manifest whose referrers to copy, with its depth: 0 for the
// manifests ref names, n for a referrer n levels down and what it lists.
type subject struct {
	digest digest.Digest
	depth  int
}

// node is one manifest of the copy.
type node struct {
	desc    ocispec.Descriptor
	raw     []byte // nil when dst has it and it was not read
	present bool   // dst has it already
}

// run plans the copy, then copies the blobs, the manifests and the tags.
func (c *copier) run(ctx context.Context) error {
	if err := c.plan(ctx); err != nil {
		return err
	}
	c.report.Descriptor = c.target.desc
	if err := c.copyBlobs(ctx); err != nil {
		return err
	}
	if err := c.putManifests(ctx); err != nil {
		return err
	}
	return c.putTags(ctx)
}

// plan reads what ref names, picks the platforms, and walks the manifests
// the copy needs, then their referrers.
func (c *copier) plan(ctx context.Context) error {
	desc, raw, err := c.readRef(ctx)
	if err != nil {
		return err
	}
	if image.IsIndex(desc.MediaType) && len(c.opts.Platforms) > 0 {
		if desc, raw, err = c.selectPlatforms(desc, raw); err != nil {
			return err
		}
	}
	if c.target, err = c.visit(ctx, desc, raw, 0); err != nil {
		return err
	}
	if !c.opts.Referrers {
		return nil
	}
	// visit appends to c.subjects, so the loop reaches the referrers of
	// referrers too, within the copy's bounds.
	for i := 0; i < len(c.subjects); i++ {
		s := c.subjects[i]
		c.depth = s.depth + 1
		for d, err := range c.src.Referrers(ctx, s.digest, nil) {
			if err != nil {
				return err
			}
			if err := c.countReferrer(s.digest); err != nil {
				return err
			}
			if _, err := c.visit(ctx, d, nil, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// selectPlatforms returns the descriptor (and bytes, when new) of what the
// tags will point at: the manifest of the one platform asked for, or a new
// index of the several asked for, in the order of the source index.
func (c *copier) selectPlatforms(desc ocispec.Descriptor, raw []byte) (ocispec.Descriptor, []byte, error) {
	ix, err := image.LoadIndex(desc, raw)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("read index %s: %w", desc.Digest, err)
	}
	picked := map[digest.Digest]bool{}
	var first ocispec.Descriptor
	for _, p := range c.opts.Platforms {
		d, err := ix.Select(p)
		if err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("select platform in index %s: %w", desc.Digest, err)
		}
		if len(picked) == 0 {
			first = d
		}
		picked[d.Digest] = true
	}
	if len(picked) == 1 {
		return first, nil, nil
	}
	var descs []ocispec.Descriptor
	for _, d := range ix.Manifests() {
		if picked[d.Digest] {
			descs = append(descs, d)
			delete(picked, d.Digest)
		}
	}
	whole := ix.Index()
	sub, err := image.NewIndex(descs, &image.Options{
		MediaType:    desc.MediaType,
		ArtifactType: whole.ArtifactType,
		Annotations:  whole.Annotations,
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("make index of %d platforms of %s: %w", len(descs), desc.Digest, err)
	}
	return sub.Descriptor(), sub.Raw(), nil
}

// visit plans the manifest desc (raw, when already read) and, unless dst
// has it, what it references: child manifests before it, blobs in c.blobs.
// It returns nil for a manifest already planned. nest is how many indexes
// list it, one inside the other: a source whose indexes nest deeper than
// maxIndexNesting fails the copy.
func (c *copier) visit(ctx context.Context, desc ocispec.Descriptor, raw []byte, nest int) (*node, error) {
	if c.visited[desc.Digest] {
		return nil, nil
	}
	if nest > maxIndexNesting {
		return nil, &transport.LimitError{What: fmt.Sprintf("manifest %s: indexes listing indexes", desc.Digest),
			Unit: "levels", Limit: maxIndexNesting, Got: int64(nest)}
	}
	if err := c.countManifest(desc.Digest); err != nil {
		return nil, err
	}
	c.visited[desc.Digest] = true
	n := &node{desc: desc, raw: raw}
	present, err := c.has(ctx, desc.Digest)
	if err != nil {
		return nil, err
	}
	n.present = present
	// A manifest dst has comes with what it references; only referrers of
	// the manifests an index lists make it worth reading.
	walk := !present || (c.opts.Referrers && image.IsIndex(desc.MediaType))
	if walk {
		if err := c.read(ctx, n); err != nil {
			return nil, err
		}
	}
	if err := c.hold(n); err != nil {
		return nil, err
	}
	if walk {
		refs, _, err := image.Children(n.desc.MediaType, n.raw)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
		}
		index := image.IsIndex(n.desc.MediaType)
		if index {
			if err := c.countChildren(desc.Digest, refs); err != nil {
				return nil, err
			}
		}
		for _, r := range refs {
			switch {
			case index:
				if _, err := c.visit(ctx, r, nil, nest+1); err != nil {
					return nil, err
				}
			case !present:
				c.addBlob(r)
			}
		}
	}
	c.nodes = append(c.nodes, n)
	if c.opts.Referrers {
		c.subjects = append(c.subjects, subject{desc.Digest, c.depth})
	}
	return n, nil
}

// readRef fetches the manifest c.ref names in src, by digest or through
// its tag.
func (c *copier) readRef(ctx context.Context) (ocispec.Descriptor, []byte, error) {
	if spec.IsDigest(c.ref) {
		return c.src.Manifest(ctx, digest.Digest(c.ref))
	}
	return c.src.Tag(c.ref).Manifest(ctx)
}

// read fetches n's bytes from src, verified, unless it has them.
func (c *copier) read(ctx context.Context, n *node) error {
	if n.raw != nil {
		return nil
	}
	desc, raw, err := c.src.Manifest(ctx, n.desc.Digest)
	if err != nil {
		return err
	}
	if desc.MediaType != "" {
		n.desc.MediaType = desc.MediaType
	}
	n.raw = raw
	return nil
}

// has reports whether dst has the manifest d.
func (c *copier) has(ctx context.Context, d digest.Digest) (bool, error) {
	_, err := c.dt.HeadManifest(ctx, c.dst.Name(), d.String())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, transport.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("check manifest %s in %s: %w", d, c.dst.Name(), err)
}

// putManifests writes the manifests dst lacks, in order, and reports every
// manifest. When the last one written is the target, it is put under the
// first tag, which stores it and tags it in one request.
func (c *copier) putManifests(ctx context.Context) error {
	var last *node
	for _, n := range c.nodes {
		if !n.present {
			last = n
		}
	}
	for _, n := range c.nodes {
		item := CopyItem{Descriptor: n.desc, Action: Skipped}
		if !n.present {
			item.Action, item.Bytes = Copied, int64(len(n.raw))
			if c.opts.DryRun {
				item.Action, item.Bytes = WouldCopy, n.desc.Size
			} else if err := c.putManifest(ctx, n, n == last && n == c.target); err != nil {
				return err
			}
		}
		c.report.Manifests = append(c.report.Manifests, item)
	}
	return nil
}

// putManifest puts n by digest, or under the first tag when tag is set and
// there is a tag.
func (c *copier) putManifest(ctx context.Context, n *node, tag bool) error {
	ref := n.desc.Digest.String()
	if tag && len(c.opts.Tags) > 0 {
		ref, c.tagged = c.opts.Tags[0], 1
	}
	if _, err := c.dt.PutManifest(ctx, c.dst.Name(), ref, n.desc.MediaType, n.raw, nil); err != nil {
		if ref != n.desc.Digest.String() {
			return fmt.Errorf("put manifest %s as %s: %w", n.desc.Digest, ref, err)
		}
		return fmt.Errorf("put manifest %s: %w", n.desc.Digest, err)
	}
	c.obs.Report(progress.Event{Kind: progress.ManifestDone, Repository: c.dst.Name(), Descriptor: n.desc, Done: int64(len(n.raw))})
	return nil
}

// putTags points the tags not yet applied at the target. A tag that already
// points at it is left alone.
func (c *copier) putTags(ctx context.Context) error {
	if c.opts.DryRun {
		return nil
	}
	t := c.target
	for _, tag := range c.opts.Tags[c.tagged:] {
		if t.present {
			got, err := c.dt.HeadManifest(ctx, c.dst.Name(), tag)
			if err == nil && got.Digest == t.desc.Digest {
				continue
			}
			if err != nil && !errors.Is(err, transport.ErrNotFound) {
				return fmt.Errorf("check tag %s: %w", tag, err)
			}
		}
		if err := c.read(ctx, t); err != nil {
			return err
		}
		if _, err := c.dt.PutManifest(ctx, c.dst.Name(), tag, t.desc.MediaType, t.raw, nil); err != nil {
			return fmt.Errorf("tag %s as %s: %w", t.desc.Digest, tag, err)
		}
	}
	return nil
}
