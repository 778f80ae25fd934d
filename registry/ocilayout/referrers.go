package ocilayout

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// A Store keeps, with the cached index.json of a repository (cache.go),
// the referrers of every subject the manifests it lists refer to, found
// by reading them all once: a page of referrers then costs a binary search
// and a copy of the page, not a read of every manifest. The referrers are
// valid exactly as long as the index they were found from, and go with it:
// [indexCache.set], which every read of a changed index.json and every
// write goes through, forgets them. Manifests are content-addressed, so
// the same index.json lists the same referrers; a manifest blob damaged
// or removed behind the Store's back is seen when index.json next changes.

// referrerSet is the referrers of the manifests one index lists, each
// list sorted by digest. Its lists are shared: never modified.
type referrerSet struct {
	all    map[digest.Digest][]ocispec.Descriptor // by subject
	byType map[referrerKey][]ocispec.Descriptor   // by subject and artifact type
}

// referrerKey is a subject and an artifact type.
type referrerKey struct {
	subject      digest.Digest
	artifactType string
}

// list returns the referrers of subject, of artifactType unless it is "",
// sorted by digest. The caller must not modify the slice.
func (r *referrerSet) list(subject digest.Digest, artifactType string) []ocispec.Descriptor {
	if artifactType == "" {
		return r.all[subject]
	}
	return r.byType[referrerKey{subject, artifactType}]
}

// referrers returns the referrers cached with x, if x is still the cached
// index of repo.
func (c *indexCache) referrers(repo string, x *index) *referrerSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.repo != repo || c.x != x {
		return nil
	}
	return c.refs
}

// keepReferrers caches r, found from x, if x is still the cached index of
// repo.
func (c *indexCache) keepReferrers(repo string, x *index, r *referrerSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.repo == repo && c.x == x {
		c.refs = r
	}
}

// referrerSetOf returns the referrers of the manifests of repo that x
// lists, from the cache while x is the cached index, else read. The caller
// holds the repository's lock.
func (s *Store) referrerSetOf(ctx context.Context, repo string, x *index) (*referrerSet, error) {
	c := s.cache(repo)
	if r := c.referrers(repo, x); r != nil {
		return r, nil
	}
	r, err := s.readReferrers(ctx, repo, x)
	if err != nil {
		return nil, err
	}
	c.keepReferrers(repo, x, r)
	return r, nil
}

// readReferrers reads the manifests of repo that x lists and returns the
// referrers among them.
func (s *Store) readReferrers(ctx context.Context, repo string, x *index) (*referrerSet, error) {
	r := &referrerSet{
		all:    make(map[digest.Digest][]ocispec.Descriptor),
		byType: make(map[referrerKey][]ocispec.Descriptor),
	}
	for _, e := range x.listed() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if e.MediaType != "" && !image.IsManifest(e.MediaType) && !image.IsIndex(e.MediaType) {
			continue
		}
		body, err := s.readListed(repo, e)
		if err != nil {
			return nil, err
		}
		var m struct {
			MediaType    string              `json:"mediaType"`
			ArtifactType string              `json:"artifactType"`
			Config       *ocispec.Descriptor `json:"config"`
			Subject      *ocispec.Descriptor `json:"subject"`
			Annotations  map[string]string   `json:"annotations"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, invalid(s.blobPath(repo, e.Digest), "%v", err)
		}
		if m.Subject == nil {
			continue
		}
		at := m.ArtifactType
		if at == "" && m.Config != nil {
			at = m.Config.MediaType
		}
		d := ocispec.Descriptor{
			MediaType:    cmp.Or(e.MediaType, m.MediaType),
			Digest:       e.Digest,
			Size:         e.Size,
			ArtifactType: at,
			Annotations:  m.Annotations,
		}
		sub := m.Subject.Digest
		r.all[sub] = append(r.all[sub], d)
		k := referrerKey{sub, at}
		r.byType[k] = append(r.byType[k], d)
	}
	byDigest := func(a, b ocispec.Descriptor) int { return cmp.Compare(a.Digest, b.Digest) }
	for _, l := range r.all {
		slices.SortFunc(l, byDigest)
	}
	for _, l := range r.byType {
		slices.SortFunc(l, byDigest)
	}
	return r, nil
}

// cloneAnnotations gives each descriptor of descs its own copy of its
// annotations, so that a caller cannot change the cached ones.
func cloneAnnotations(descs []ocispec.Descriptor) {
	for i := range descs {
		descs[i].Annotations = maps.Clone(descs[i].Annotations)
	}
}
