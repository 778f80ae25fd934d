// Package pull fetches manifests, images and blobs through a transport and
// verifies every byte against its digest. The tag and repository packages
// share it.
package pull

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/internal/verify"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// Manifest fetches the manifest ref names in repo and checks that its bytes
// hash to the digest the backend reported and, when ref is a digest, to ref.
// A missing manifest matches [transport.ErrManifestUnknown] (see
// [ManifestNotFound]).
// It then reports ManifestDone to obs, which may be nil.
func Manifest(ctx context.Context, obs progress.Observer, t transport.ManifestFetcher, repo, ref string) (ocispec.Descriptor, []byte, error) {
	desc, raw, err := t.GetManifest(ctx, repo, ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, manifestError(repo, ref, err)
	}
	want := desc.Digest
	if spec.IsDigest(ref) {
		want = digest.Digest(ref)
	}
	if err := want.Validate(); err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("get manifest %s in %s: %w",
			ref, repo, &transport.Error{Code: transport.CodeDigestInvalid, Message: fmt.Sprintf("registry reported digest %q", want), Err: err})
	}
	got := want.Algorithm().FromBytes(raw)
	if got != want || (desc.Digest != "" && desc.Digest != want) {
		return ocispec.Descriptor{}, nil, fmt.Errorf("get manifest %s in %s: %w",
			ref, repo, transport.Errorf(transport.CodeDigestInvalid, "content hashes to %s, want %s", got, want))
	}
	if desc.Size != int64(len(raw)) {
		desc.Size = int64(len(raw))
	}
	desc.Digest = want
	if desc.MediaType == "" {
		if mt, err := image.DetectMediaType(raw); err == nil {
			desc.MediaType = mt
		}
	}
	obs.Report(progress.Event{Kind: progress.ManifestDone, Repository: repo, Descriptor: desc, Done: desc.Size})
	return desc, raw, nil
}

// Opener returns a fetch function that opens blobs of repo and verifies them
// while they stream. Each open is a pull of its own: it takes the observer
// of the ctx it is given (see [progress.Take]).
func Opener(t transport.BlobFetcher, repo string) image.FetchFunc {
	return func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
		obs, ctx := progress.Take(ctx)
		return Blob(ctx, obs, t, repo, desc)
	}
}

// Blob opens the blob desc describes (digest, and size when it is not
// negative) and verifies it while it streams. It reports its progress to
// obs, which may be nil: BlobStarted once
// opened, BlobBytes as it is read, BlobVerified and BlobDone at its
// verified end.
func Blob(ctx context.Context, obs progress.Observer, t transport.BlobFetcher, repo string, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if _, err := spec.CheckDigest(string(desc.Digest)); err != nil {
		return nil, fmt.Errorf("get blob in %s: %w", repo, err)
	}
	rc, got, err := t.GetBlob(ctx, repo, desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("get blob %s in %s: %w", desc.Digest, repo, err)
	}
	if desc.Size < 0 {
		desc.Size = got.Size
	}
	vr, err := verify.NewReader(rc, desc)
	if err != nil {
		return nil, fmt.Errorf("get blob %s in %s: %w", desc.Digest, repo, err)
	}
	return verify.Metered(obs, repo, vr), nil
}

// Image fetches the image manifest ref names and returns it with blobs that
// open lazily, verified, through t.
func Image(ctx context.Context, obs progress.Observer, t transport.Transport, repo, ref string) (*image.Image, error) {
	desc, raw, err := Manifest(ctx, obs, t, repo, ref)
	if err != nil {
		return nil, err
	}
	if image.IsIndex(desc.MediaType) {
		return nil, fmt.Errorf("get image %s in %s: it is an index (%s) of several images: pick a platform: %w",
			ref, repo, desc.MediaType, image.ErrUnsupportedMediaType)
	}
	return load(t, repo, ref, desc, raw)
}

// load decodes the image manifest raw of repo, whose blobs open through t
// and record where they are stored (see [image.Blob.Source]).
func load(t transport.Transport, repo, ref string, desc ocispec.Descriptor, raw []byte) (*image.Image, error) {
	img, err := image.Load(desc, raw, Opener(t, repo))
	if err != nil {
		return nil, fmt.Errorf("get image %s in %s: %w", ref, repo, err)
	}
	return img.WithSource(image.Source{Transport: t, Repository: repo}), nil
}

// Index fetches the index ref names.
func Index(ctx context.Context, obs progress.Observer, t transport.ManifestFetcher, repo, ref string) (*image.Index, error) {
	desc, raw, err := Manifest(ctx, obs, t, repo, ref)
	if err != nil {
		return nil, err
	}
	ix, err := image.LoadIndex(desc, raw)
	if err != nil {
		return nil, fmt.Errorf("get index %s in %s: %w", ref, repo, err)
	}
	return ix, nil
}

// PlatformImage fetches what ref names; when it is an index it picks the
// manifest for platform p and fetches that.
func PlatformImage(ctx context.Context, obs progress.Observer, t transport.Transport, repo, ref string, p ocispec.Platform) (*image.Image, error) {
	desc, raw, err := Manifest(ctx, obs, t, repo, ref)
	if err != nil {
		return nil, err
	}
	if !image.IsIndex(desc.MediaType) {
		return load(t, repo, ref, desc, raw)
	}
	ix, err := image.LoadIndex(desc, raw)
	if err != nil {
		return nil, fmt.Errorf("get index %s in %s: %w", ref, repo, err)
	}
	child, err := ix.Select(p)
	if err != nil {
		return nil, fmt.Errorf("get image %s in %s: %w", ref, repo, err)
	}
	return PlatformImage(ctx, obs, t, repo, child.Digest.String(), p)
}
