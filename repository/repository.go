package repository

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/pull"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/tag"
	"github.com/regkit/regkit/transport"
)

// Repository is a named collection of images in a registry ("myapp1",
// "library/ubuntu"): its tags, the manifests and blobs they name, and the
// referrers attached to them. A Repository is a handle: making one does no
// I/O. It is safe for concurrent use.
type Repository struct {
	t    transport.Transport
	name string
	err  error // why the name is invalid, returned by every method
}

// New returns the repository name served by t. An invalid name is reported
// by every method of the returned Repository as a
// [transport.ErrNameInvalid] error wrapping the [*reference.Error] that says
// what is wrong (errors.Is matches reference.ErrUppercase, …). Invalid tags
// and digests given to its methods are reported the same way, with
// [transport.ErrTagInvalid] and [transport.ErrDigestInvalid].
func New(t transport.Transport, name string) *Repository {
	r := &Repository{t: t, name: name}
	r.err = spec.CheckName(name)
	return r
}

// Name returns the repository's name.
func (r *Repository) Name() string { return r.name }

// Transport returns the transport the repository is reached through. Two
// repositories with the same transport are on the same registry, where a
// blob can be mounted from one into the other.
func (r *Repository) Transport() transport.Transport { return r.t }

// Tag returns the tag name of this repository. It does no I/O; see [tag.Tag].
func (r *Repository) Tag(name string) *tag.Tag { return tag.New(r.t, r.name, name) }

// Resolve returns the descriptor of the manifest ref (a tag or a digest)
// names, without fetching it, with one HEAD request. A missing tag or
// digest, in an existing or a missing repository, gives an error matching
// [transport.ErrManifestUnknown] on every backend, and also
// [transport.ErrNameUnknown] when the backend knows the repository is
// missing (see "Not found" in package transport). The other methods that
// read a manifest (Manifest, Image, Index) report a missing one the same way.
func (r *Repository) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if err := r.check(ref); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolve: %w", err)
	}
	desc, err := pull.Head(ctx, r.t, r.name, ref)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolve %s in %s: %w", ref, r.name, err)
	}
	return desc, nil
}

// Manifest fetches the exact bytes of the manifest with digest d, of any
// media type, verified against d. For the manifest a tag points at, use
// [tag.Tag.Manifest] (repo.Tag("3.0").Manifest(ctx)). A missing manifest
// gives [transport.ErrManifestUnknown], as for [Repository.Resolve].
func (r *Repository) Manifest(ctx context.Context, d digest.Digest) (ocispec.Descriptor, []byte, error) {
	if err := r.checkDigest(d); err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("get manifest: %w", err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Manifest(ctx, obs, r.t, r.name, d.String())
}

// Image fetches the image manifest with digest d. Its blobs are read lazily,
// and verified as they stream, when opened. A missing manifest gives
// [transport.ErrManifestUnknown], as for [Repository.Resolve].
func (r *Repository) Image(ctx context.Context, d digest.Digest) (*image.Image, error) {
	if err := r.checkDigest(d); err != nil {
		return nil, fmt.Errorf("get image: %w", err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Image(ctx, obs, r.t, r.name, d.String())
}

// Index fetches the index with digest d. A missing manifest gives
// [transport.ErrManifestUnknown], as for [Repository.Resolve].
func (r *Repository) Index(ctx context.Context, d digest.Digest) (*image.Index, error) {
	if err := r.checkDigest(d); err != nil {
		return nil, fmt.Errorf("get index: %w", err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Index(ctx, obs, r.t, r.name, d.String())
}

// Blob opens the blob desc describes for reading. The bytes are verified as
// they stream: reading to the end returns an error rather than [io.EOF] if
// they do not match desc's digest and size (a negative size is not checked).
// The caller must close the reader.
func (r *Repository) Blob(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if r.err != nil {
		return nil, fmt.Errorf("get blob: %w", r.err)
	}
	obs, ctx := progress.Take(ctx)
	return pull.Blob(ctx, obs, r.t, r.name, desc)
}

// Delete deletes the manifest with digest d, and so every tag that points at
// it. Blobs stay: registries collect them separately.
func (r *Repository) Delete(ctx context.Context, d digest.Digest) error {
	if err := r.checkDigest(d); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := r.t.DeleteManifest(ctx, r.name, d.String()); err != nil {
		return fmt.Errorf("delete %s in %s: %w", d, r.name, err)
	}
	return nil
}

// check validates the repository name and a ref (tag or digest).
func (r *Repository) check(ref string) error {
	if r.err != nil {
		return r.err
	}
	return spec.CheckRef(ref)
}

func (r *Repository) checkDigest(d digest.Digest) error {
	if r.err != nil {
		return r.err
	}
	_, err := spec.CheckDigest(string(d))
	return err
}
