package regkit

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// countReferrer counts one more referrer, of subject at c.depth, against the
// copy's bounds.
func (c *copier) countReferrer(subject digest.Digest) error {
	c.walked++
	if max := c.opts.MaxReferrerDepth; max > 0 && c.depth > max {
		return &transport.LimitError{
			What: fmt.Sprintf("referrers of %s (referrers of referrers)", subject),
			Unit: "levels", Limit: int64(max), Got: int64(c.depth), Option: "CopyOptions.MaxReferrerDepth"}
	}
	if max := c.opts.MaxReferrers; max > 0 && c.walked > max {
		return &transport.LimitError{
			What: fmt.Sprintf("referrers of %s", subject),
			Unit: "referrers", Limit: int64(max), Option: "CopyOptions.MaxReferrers"}
	}
	return nil
}

// countManifest checks the manifest d, about to be planned, against the
// copy's bound on manifests.
func (c *copier) countManifest(d digest.Digest) error {
	if max := c.opts.MaxManifests; max > 0 && len(c.visited) >= max {
		return &transport.LimitError{What: fmt.Sprintf("manifests of the copy, at %s", d),
			Unit: "manifests", Limit: int64(max), Option: "CopyOptions.MaxManifests"}
	}
	return nil
}

// countChildren checks the manifests the index d lists that are not planned
// yet against the copy's bound on manifests: a source whose index lists too
// many fails as soon as the index is read, before a request is spent on any
// of them.
func (c *copier) countChildren(d digest.Digest, children []ocispec.Descriptor) error {
	max := c.opts.MaxManifests
	if max <= 0 || len(c.visited)+len(children) <= max {
		return nil
	}
	planned := len(c.visited)
	seen := map[digest.Digest]bool{}
	for _, r := range children {
		if c.visited[r.Digest] || seen[r.Digest] {
			continue
		}
		if seen[r.Digest] = true; planned+len(seen) > max {
			return &transport.LimitError{What: fmt.Sprintf("manifests of the copy, with those index %s lists (%d)", d, len(children)),
				Unit: "manifests", Limit: int64(max), Option: "CopyOptions.MaxManifests"}
		}
	}
	return nil
}

// hold counts the bytes of n, which the copy keeps until it writes n,
// against the copy's bound on them.
func (c *copier) hold(n *node) error {
	c.held += int64(len(n.raw))
	if max := c.opts.MaxManifestBytes; max > 0 && c.held > max {
		return &transport.LimitError{What: fmt.Sprintf("manifests of the copy, at %s", n.desc.Digest),
			Unit: "bytes", Limit: max, Got: c.held, Option: "CopyOptions.MaxManifestBytes"}
	}
	return nil
}
