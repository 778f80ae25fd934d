package fake

import (
	"bytes"
	"context"
	"maps"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// manifestEntry is a stored manifest.
type manifestEntry struct {
	desc    ocispec.Descriptor // mediaType, digest, size, artifactType
	body    []byte
	subject digest.Digest // "" when the manifest has none
	// tags are the tags of its repository that point at it, so that
	// deleting it costs its own tags, not all of the repository's.
	tags map[string]struct{}
}

// GetManifest returns the descriptor and the exact bytes of the manifest
// that ref, a tag or a digest, names in repo. It fails with NAME_UNKNOWN for
// an unknown repository and MANIFEST_UNKNOWN for an unknown ref.
func (s *Store) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	m, err := s.lookupManifest(ctx, repo, ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return m.desc, bytes.Clone(m.body), nil
}

// HeadManifest returns the descriptor of the manifest that ref names in
// repo. Errors are those of [Store.GetManifest].
func (s *Store) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	m, err := s.lookupManifest(ctx, repo, ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return m.desc, nil
}

func (s *Store) lookupManifest(ctx context.Context, repo, ref string) (*manifestEntry, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return nil, err
	}
	tag, d, err := spec.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.repoErr(repo)
	if err != nil {
		return nil, err
	}
	if tag != "" {
		var ok bool
		if d, ok = r.tags[tag]; !ok {
			return nil, backend.TagUnknown(repo, tag)
		}
	}
	m := r.manifests[d]
	if m == nil {
		return nil, backend.ManifestUnknown(repo, d)
	}
	return m, nil
}

// PutManifest stores body, a manifest of the given media type, in repo under
// ref, creating repo if needed, and returns its descriptor (media type,
// digest, size and artifact type).
//
// body must be an OCI image manifest or index, or a Docker schema 2
// manifest or manifest list, as every backend of regkit checks it
// ([spec.ParseManifest]): mediaType is read without parameters, "" means
// the type the body declares or its shape says, and an image manifest with
// a "manifests" field or an index with "config" or "layers" is refused.
// Anything else fails with MANIFEST_INVALID.
//
// If ref is a digest, body must hash to it with its algorithm (else
// DIGEST_INVALID), and the manifest is stored under it; if ref is a tag, the
// manifest is stored under its sha256 digest and the tag points at it.
// opts.Tags point at the manifest too, by the digest it is stored under: a
// tag put with a manifest by its sha512 digest answers that digest.
// opts.IfMatch, for a tag, makes the put fail with PRECONDITION_FAILED
// unless the tag exists and points at that digest; it is ignored for a
// digest ref.
//
// The config and every layer of a manifest must be blobs of repo, and every
// child of an index a manifest of repo, else the put fails with
// MANIFEST_BLOB_UNKNOWN naming what is missing. Layers that need not be
// pushed are exempt, as in the distribution registry: layers with urls, and
// Docker foreign or OCI non-distributable layers. The subject need not
// exist; a manifest with one is listed by [Store.ListReferrers]. On any
// error nothing changes.
func (s *Store) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	p, err := backend.CheckManifestPut(ref, mediaType, body, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	tag, d, ifMatch := p.Tag, p.Digest, p.IfMatch
	m := &manifestEntry{
		desc: ocispec.Descriptor{
			MediaType:    p.Manifest.MediaType,
			Digest:       d,
			Size:         int64(len(body)),
			ArtifactType: p.Manifest.ArtifactType,
		},
		body: bytes.Clone(body),
	}
	if p.Manifest.Subject != nil {
		m.subject = p.Manifest.Subject.Digest
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repo]
	if r == nil {
		r = &repository{} // a new repository holds nothing yet
	}
	if err := checkRefs(repo, r, p); err != nil {
		return ocispec.Descriptor{}, err
	}
	if ifMatch != "" {
		if cur, ok := r.tags[tag]; !ok || cur != ifMatch {
			return ocispec.Descriptor{}, transport.Errorf(transport.CodePreconditionFailed,
				"tag %q of repository %q does not point at %s", tag, repo, ifMatch)
		}
	}
	r = s.createRepo(repo)
	if cur := r.manifests[d]; cur != nil {
		m = cur
	} else {
		r.manifests[d] = m
	}
	for _, t := range p.Tags {
		if old, ok := r.tags[t]; !ok {
			r.tagList.set(t)
		} else if old != d {
			delete(r.manifests[old].tags, t)
		}
		r.tags[t] = d
		if m.tags == nil {
			m.tags = make(map[string]struct{}, 1)
		}
		m.tags[t] = struct{}{}
	}
	if m.subject != "" {
		refs := r.referrers[m.subject]
		if refs == nil {
			refs = newSortedList(descriptorDigest)
			r.referrers[m.subject] = refs
		}
		refs.set(ocispec.Descriptor{
			MediaType:    p.Manifest.MediaType,
			Digest:       d,
			Size:         int64(len(body)),
			ArtifactType: referrerType(p.Manifest),
			Annotations:  maps.Clone(p.Manifest.Annotations),
		})
	}
	return m.desc, nil
}

// DeleteManifest deletes what ref names in repo. For a digest it deletes
// the manifest, every tag that points at it and its entry in the referrers
// of its subject; for a tag, only the tag. It fails with NAME_UNKNOWN for an
// unknown repository and MANIFEST_UNKNOWN for an unknown ref.
func (s *Store) DeleteManifest(ctx context.Context, repo, ref string) error {
	if err := backend.Begin(ctx, repo); err != nil {
		return err
	}
	tag, d, err := spec.ParseRef(ref)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoErr(repo)
	if err != nil {
		return err
	}
	if tag != "" {
		to, ok := r.tags[tag]
		if !ok {
			return backend.TagUnknown(repo, tag)
		}
		delete(r.tags, tag)
		delete(r.manifests[to].tags, tag)
		r.tagList.delete(tag)
		return nil
	}
	m := r.manifests[d]
	if m == nil {
		return backend.ManifestUnknown(repo, d)
	}
	delete(r.manifests, d)
	for tag := range m.tags {
		delete(r.tags, tag)
		r.tagList.delete(tag)
	}
	if refs := r.referrers[m.subject]; refs != nil {
		refs.delete(string(d))
		if refs.len() == 0 {
			delete(r.referrers, m.subject)
		}
	}
	return nil
}

// checkRefs returns MANIFEST_BLOB_UNKNOWN unless r holds every blob and
// child manifest p references. The caller holds the store's lock.
func checkRefs(repo string, r *repository, p backend.ManifestPut) error {
	for _, b := range p.Blobs {
		if _, ok := r.blobs[b.Digest]; !ok {
			return backend.ManifestBlobUnknown("blob", b.Digest, repo)
		}
	}
	for _, c := range p.Manifest.Manifests {
		if r.manifests[c.Digest] == nil {
			return backend.ManifestBlobUnknown("manifest", c.Digest, repo)
		}
	}
	return nil
}

// referrerType is the artifact type the referrers API lists m under: its
// artifactType, else the media type of its config.
func referrerType(m spec.Manifest) string {
	if m.ArtifactType != "" || m.Config == nil {
		return m.ArtifactType
	}
	return m.Config.MediaType
}
