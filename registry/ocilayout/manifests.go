package ocilayout

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// GetManifest returns the descriptor and the exact bytes of the manifest
// that ref, a tag or a digest, names in repo.
//
// A tag is looked up among the index.json entries annotated with it. A
// digest is looked up among the index.json entries, then among the blobs:
// a blob of at most 4 MiB that is an OCI or Docker image manifest or index
// is a manifest of the repository too, as the children of an index are in
// layouts that skopeo writes. The media type is that of the index.json
// entry, else detected from the bytes ([image.DetectMediaType]).
//
// It fails with NAME_UNKNOWN for an unknown repository and MANIFEST_UNKNOWN
// for an unknown ref. An index.json entry whose blob file is missing, of
// another size, or does not hash to its digest gives [ErrInvalidLayout].
func (s *Store) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	return s.lookupManifest(ctx, repo, ref, true)
}

// HeadManifest returns the descriptor of the manifest that ref names in
// repo, as [Store.GetManifest] finds it, reading the manifest's bytes only
// when index.json does not give its media type.
func (s *Store) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	desc, _, err := s.lookupManifest(ctx, repo, ref, false)
	return desc, err
}

func (s *Store) lookupManifest(ctx context.Context, repo, ref string, withBody bool) (ocispec.Descriptor, []byte, error) {
	if err := s.begin(ctx, repo); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	tag, d, err := spec.ParseRef(ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	defer s.rlock(repo)()
	if err := s.openRepo(repo); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	ix, err := s.readIndex(repo)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	var entry ocispec.Descriptor
	var ok bool
	if tag != "" {
		if entry, ok = ix.findTag(tag); !ok {
			return ocispec.Descriptor{}, nil, backend.TagUnknown(repo, tag)
		}
	} else if entry, ok = ix.findDigest(d); !ok {
		return s.readUnlisted(repo, d)
	}
	desc := ocispec.Descriptor{MediaType: entry.MediaType, Digest: entry.Digest, Size: entry.Size, ArtifactType: entry.ArtifactType}
	if !withBody && desc.MediaType != "" {
		size, err := s.statBlob(repo, desc.Digest)
		if err == nil && size != desc.Size {
			err = invalid(s.blobPath(repo, desc.Digest), "%d bytes, index.json says %d", size, desc.Size)
		}
		return desc, nil, s.listedErr(repo, desc.Digest, err)
	}
	body, err := s.readListed(repo, entry)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if desc.MediaType == "" {
		if desc.MediaType, err = image.DetectMediaType(body); err != nil {
			return ocispec.Descriptor{}, nil, invalid(s.blobPath(repo, desc.Digest), "%v", err)
		}
	}
	if !withBody {
		body = nil
	}
	return desc, body, nil
}

// listedErr turns BLOB_UNKNOWN for the manifest d that index.json lists
// into an [ErrInvalidLayout] error.
func (s *Store) listedErr(repo string, d digest.Digest, err error) error {
	if errors.Is(err, transport.ErrBlobUnknown) {
		return invalid(s.repoPath(repo, indexFile), "lists manifest %s, which has no blob file", d)
	}
	return err
}

// readListed reads the blob of the index.json entry e, checking its size
// and digest.
func (s *Store) readListed(repo string, e ocispec.Descriptor) ([]byte, error) {
	p := s.blobPath(repo, e.Digest)
	if _, err := s.statBlob(repo, e.Digest); err != nil {
		return nil, s.listedErr(repo, e.Digest, err)
	}
	body, err := s.readFile(p, maxIndexFile)
	if err != nil {
		return nil, err
	}
	if int64(len(body)) != e.Size {
		return nil, invalid(p, "%d bytes, index.json says %d", len(body), e.Size)
	}
	return body, checkBytes(p, e.Digest, body)
}

// checkBytes returns an error matching [ErrInvalidLayout] and
// [transport.ErrDigestInvalid] unless body, read from the file p, hashes to
// d.
func checkBytes(p string, d digest.Digest, body []byte) error {
	if got := d.Algorithm().FromBytes(body); got != d {
		return fmt.Errorf("%w: %w", ErrInvalidLayout,
			transport.Errorf(transport.CodeDigestInvalid, "blob file %s hashes to %s", p, got))
	}
	return nil
}

// readUnlisted returns the blob d of repo if it is a manifest, or fails
// with MANIFEST_UNKNOWN. The caller holds the repository's lock.
func (s *Store) readUnlisted(repo string, d digest.Digest) (ocispec.Descriptor, []byte, error) {
	size, err := s.statBlob(repo, d)
	if errors.Is(err, transport.ErrBlobUnknown) || (err == nil && size > maxManifestSize) {
		return ocispec.Descriptor{}, nil, backend.ManifestUnknown(repo, d)
	} else if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	p := s.blobPath(repo, d)
	body, err := s.readFile(p, maxManifestSize)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if err := checkBytes(p, d, body); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	mt, err := image.DetectMediaType(body)
	if err != nil || !(image.IsManifest(mt) || image.IsIndex(mt)) {
		return ocispec.Descriptor{}, nil, backend.ManifestUnknown(repo, d)
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(body))}, body, nil
}

// PutManifest stores body, a manifest of the given media type, in repo under
// ref, creating repo if needed, and returns its descriptor (media type,
// digest, size and artifact type).
//
// body must be an OCI image manifest or index, or a Docker schema 2
// manifest or manifest list, as every backend of regkit checks it
// ([spec.ParseManifest]): mediaType is read without parameters, "" means
// the type the body declares or its shape says. Anything else fails with
// MANIFEST_INVALID. If ref is a digest, body
// must hash to it (else DIGEST_INVALID); if ref is a tag, the manifest is
// stored under its sha256 digest. opts.Tags are listed for the manifest
// too, by the digest it is stored under (a sha512 one included). opts.IfMatch, for a tag, makes the put fail
// with PRECONDITION_FAILED unless the tag points at that digest.
//
// The config and layers of a manifest must be blobs of repo (layers with
// urls and non-distributable layers excepted), and the children of an
// index manifests of repo, else the put fails with MANIFEST_BLOB_UNKNOWN
// and nothing changes. The manifest is written as a blob first, then
// index.json lists it: under the tag, replacing the tag's previous entry,
// or, for a digest ref, untagged unless index.json lists it already. Under
// a [Store.Batch], that last step waits for the batch's end.
func (s *Store) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	if err := s.begin(ctx, repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	p, err := backend.CheckManifestPut(ref, mediaType, body, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	tag, d, ifMatch := p.Tag, p.Digest, p.IfMatch
	desc := ocispec.Descriptor{MediaType: p.Manifest.MediaType, Digest: d, Size: int64(len(body)), ArtifactType: p.Manifest.ArtifactType}
	b := s.batchOf(ctx, repo)
	if ifMatch != "" {
		if err := s.flush(b); err != nil {
			return ocispec.Descriptor{}, err
		}
	}

	unlock, err := s.lock(repo)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer unlock()
	ix := newIndex(ocispec.Index{})
	exists := true
	if err := s.openRepo(repo); errors.Is(err, transport.ErrNameUnknown) {
		exists = false
	} else if err != nil {
		return ocispec.Descriptor{}, err
	} else if ix, err = s.readIndex(repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := s.checkRefs(repo, exists, ix, p); err != nil {
		return ocispec.Descriptor{}, err
	}
	if ifMatch != "" {
		if cur, ok := ix.findTag(tag); !ok || cur.Digest != ifMatch {
			return ocispec.Descriptor{}, transport.Errorf(transport.CodePreconditionFailed,
				"tag %q of repository %q does not point at %s", tag, repo, ifMatch)
		}
	}
	if !exists {
		if err := s.ensureRepo(repo); err != nil {
			return ocispec.Descriptor{}, err
		}
		if ix, err = s.readIndex(repo); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	if err := s.writeBlob(repo, d, body); err != nil {
		return ocispec.Descriptor{}, err
	}
	op := batchOp{tags: p.Tags, desc: desc}
	if b != nil && ifMatch == "" && b.record(op) {
		return desc, nil
	}
	if op.apply(ix) {
		if err := s.writeIndex(repo, ix); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	return desc, nil
}

// writeBlob stores body as the blob d of repo unless a file of exactly
// these bytes is there: a damaged one is replaced. The caller holds the
// repository's write lock.
func (s *Store) writeBlob(repo string, d digest.Digest, body []byte) error {
	if b, err := s.readFile(s.blobPath(repo, d), int64(len(body))); err == nil && bytes.Equal(b, body) {
		return nil
	}
	f, tmp, err := s.createTemp(repo, "manifest")
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.dropTemp(repo, tmp)
		return fmt.Errorf("repository %q: write manifest %s: %w", repo, d, err)
	}
	return s.publishBlob(repo, tmp, d)
}

// checkRefs returns MANIFEST_BLOB_UNKNOWN unless repo, whose index is ix,
// holds every blob and child manifest p references. exists says whether
// repo exists. The caller holds the repository's lock.
func (s *Store) checkRefs(repo string, exists bool, ix *index, p backend.ManifestPut) error {
	for _, b := range p.Blobs {
		err := backend.BlobUnknown(repo, b.Digest)
		if exists {
			_, err = s.statBlob(repo, b.Digest)
		}
		if errors.Is(err, transport.ErrBlobUnknown) {
			return backend.ManifestBlobUnknown("blob", b.Digest, repo)
		} else if err != nil {
			return err
		}
	}
	for _, c := range p.Manifest.Manifests {
		if _, ok := ix.findDigest(c.Digest); ok {
			continue
		}
		err := backend.ManifestUnknown(repo, c.Digest)
		if exists {
			_, _, err = s.readUnlisted(repo, c.Digest)
		}
		if errors.Is(err, transport.ErrManifestUnknown) {
			return backend.ManifestBlobUnknown("manifest", c.Digest, repo)
		} else if err != nil {
			return err
		}
	}
	return nil
}
