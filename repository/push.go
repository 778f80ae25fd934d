package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/body"
	"github.com/regkit/regkit/internal/intent"
	"github.com/regkit/regkit/internal/mount"
	"github.com/regkit/regkit/internal/par"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/internal/verify"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// Push uploads img and names it with tags, in the order that never leaves
// anything half-written visible: the blobs first, then the manifest, then the
// tags. With no tags the image is stored by digest only. Every tag is
// validated before anything is uploaded. It returns the descriptor of the
// image's manifest.
//
// Push spends as few round trips as it can: when the tags already point at
// the image it stops after asking; blobs the repository already has are not
// read, let alone uploaded. Blobs of a pulled image (or of one made from it,
// see [github.com/regkit/regkit/image/mutate]) that came from another
// repository of the same registry are mounted from there, not read; pushed
// to another registry, each is read once, streamed from its source. Blobs
// upload in parallel, within the limit of the transport (see
// [transport.Limiter]) and at most 8 at once.
//
// Push reports its progress to the observer of ctx (see
// [progress.With]): the events of each blob as [Repository.PushBlob]
// describes (BlobMounted for a mounted one), then ManifestDone once the
// manifest is stored (once, however many tags). When the tags already point at the image it reports nothing.
func (r *Repository) Push(ctx context.Context, img *image.Image, tags ...string) (ocispec.Descriptor, error) {
	obs, ctx := progress.Take(ctx)
	ctx = r.pushing(ctx, img.Blobs())
	return r.push(ctx, obs, img, tags)
}

// push is [Repository.Push], reporting to obs.
func (r *Repository) push(ctx context.Context, obs progress.Observer, img *image.Image, tags []string) (ocispec.Descriptor, error) {
	desc := img.Descriptor()
	if err := r.checkTags(tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s: %w", desc.Digest, err)
	}
	missing, err := r.untagged(ctx, desc, tags)
	if err != nil || len(missing) == 0 {
		return desc, err
	}
	blobs := img.Blobs()
	err = par.ForEach(ctx, par.DefaultWorkers, len(blobs), func(ctx context.Context, i int) error {
		return r.pushBlob(ctx, obs, blobs[i])
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s to %s: %w", desc.Digest, r.name, err)
	}
	if err := r.putManifest(ctx, obs, desc, img.Raw(), missing); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s to %s: %w", desc.Digest, r.name, err)
	}
	return desc, nil
}

// untagged returns the refs that do not name desc yet: the tags from the
// first one that does not point at desc, or the digest itself when there
// are no tags and the repository lacks the manifest.
func (r *Repository) untagged(ctx context.Context, desc ocispec.Descriptor, tags []string) ([]string, error) {
	refs := tags
	if len(refs) == 0 {
		refs = []string{desc.Digest.String()}
	}
	for i, ref := range refs {
		got, err := r.t.HeadManifest(ctx, r.name, ref)
		switch {
		case errors.Is(err, transport.ErrNotFound):
			return refs[i:], nil
		case err != nil:
			return nil, fmt.Errorf("push %s to %s: check %s: %w", desc.Digest, r.name, ref, err)
		case got.Digest != desc.Digest:
			return refs[i:], nil
		}
	}
	return nil, nil
}

// PushIndex uploads the index ix and names it with tags. The manifests it
// lists must already be in the repository (push them first with
// [Repository.Push]); otherwise it fails with
// [transport.ErrManifestBlobUnknown] and nothing changes. Once the index is
// stored it reports ManifestDone to the progress observer of ctx (see
// [progress.With]).
func (r *Repository) PushIndex(ctx context.Context, ix *image.Index, tags ...string) (ocispec.Descriptor, error) {
	obs, ctx := progress.Take(ctx)
	ctx = r.pushing(ctx, nil)
	return r.pushIndex(ctx, obs, ix, tags)
}

// pushIndex is [Repository.PushIndex], reporting to obs.
func (r *Repository) pushIndex(ctx context.Context, obs progress.Observer, ix *image.Index, tags []string) (ocispec.Descriptor, error) {
	desc := ix.Descriptor()
	if err := r.checkTags(tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push index %s: %w", desc.Digest, err)
	}
	if err := r.putManifest(ctx, obs, desc, ix.Raw(), tags); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push index %s to %s: %w", desc.Digest, r.name, err)
	}
	return desc, nil
}

// PushPlatforms pushes a multi-platform image: each of imgs (its blobs,
// then its manifest, stored by digest), then an index of them built by
// [image.IndexOf], each entry carrying the platform its config names, and
// names the index with tags. It returns the index. Nothing is tagged unless
// every image is in place. It reports the progress of each push, as
// [Repository.Push] and [Repository.PushIndex] do.
func (r *Repository) PushPlatforms(ctx context.Context, imgs []*image.Image, tags ...string) (*image.Index, error) {
	obs, ctx := progress.Take(ctx)
	var blobs []image.Blob
	for _, img := range imgs {
		if img != nil {
			blobs = append(blobs, img.Blobs()...)
		}
	}
	ctx = r.pushing(ctx, blobs)
	if err := r.checkTags(tags); err != nil {
		return nil, fmt.Errorf("push platforms: %w", err)
	}
	ix, err := image.IndexOf(ctx, imgs, nil)
	if err != nil {
		return nil, fmt.Errorf("push platforms to %s: %w", r.name, err)
	}
	for _, img := range imgs {
		if _, err := r.push(ctx, obs, img, nil); err != nil {
			return nil, err
		}
	}
	if _, err := r.pushIndex(ctx, obs, ix, tags); err != nil {
		return nil, err
	}
	return ix, nil
}

// PushBlob uploads one blob, streaming it, unless the repository already has
// it: then the blob is not even opened. A blob pulled from another
// repository of the same registry (see [image.Blob.Source]) is mounted from
// there, and not opened either; if the registry refuses the mount, it is
// uploaded. The registry verifies the bytes against the blob's digest and
// size before it keeps them.
//
// PushBlob reports its progress to the observer of ctx (see
// [progress.With]), under this repository's name: BlobStarted when
// the blob is opened, BlobBytes as the registry reads it, and BlobDone once
// the registry has stored it; or BlobSkipped alone when the registry
// already had it, BlobMounted alone when it was mounted. Opening the blob
// reports nothing of its own: a blob of a pulled image does not also report
// its pull.
//
// An upload that fails transiently (a connection that broke, a 503)
// starts again from the start, reopening the blob, within the retry policy
// of the transport (see [transport.Retry]; for the HTTP client,
// [github.com/regkit/regkit/transport/remote.WithRetry]). A restarted upload reports BlobStarted once, and
// BlobBytes only for bytes beyond the most an earlier attempt read, so the
// events stay in order and end at the blob's size. An upload the registry
// refused as corrupt ([transport.ErrDigestInvalid] or
// [transport.ErrSizeInvalid]), as it refuses bytes damaged on the way, is
// sent once more, with a retry policy of its own, and checked against the
// blob's descriptor as it is read: if the blob itself is wrong, the error
// says so.
func (r *Repository) PushBlob(ctx context.Context, b image.Blob) error {
	obs, ctx := progress.Take(ctx)
	ctx = r.pushing(ctx, []image.Blob{b})
	return r.pushBlob(ctx, obs, b)
}

// pushBlob is [Repository.PushBlob], reporting to obs.
func (r *Repository) pushBlob(ctx context.Context, obs progress.Observer, b image.Blob) error {
	if r.err != nil {
		return r.err
	}
	desc := b.Descriptor()
	if _, err := spec.CheckDigest(string(desc.Digest)); err != nil {
		return fmt.Errorf("push blob: %w", err)
	}
	release, err := par.Acquire(ctx, r.t)
	if err != nil {
		return fmt.Errorf("push blob %s: %w", desc.Digest, err)
	}
	defer release()
	hw := &highWater{meter: verify.NewMeter(obs, r.name, desc)}
	if done, err := r.mountBlob(ctx, hw.meter, b); done || err != nil {
		return err
	}
	// A registry that found the bytes corrupt (DIGEST_INVALID, SIZE_INVALID)
	// may have got them damaged on the way: they are sent once more, and
	// checked as they leave this time, so that a blob whose own content does
	// not match its descriptor is named as the cause.
	err = verify.AgainIfCorrupt(func(check bool) error {
		return transport.Retry(ctx, r.t, func() error {
			lb := hw.body(ctx, b, check)
			err := r.t.PutBlob(ctx, r.name, desc, lb)
			lb.Close() // waits for a Read the transport may still have under way
			if check && verify.IsCorrupt(lb.Err()) {
				// The cause, whatever the registry made of it.
				return fmt.Errorf("blob as given to push: %w", lb.Err())
			}
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("put blob %s: %w", desc.Digest, err)
	}
	if hw.wasOpened() {
		hw.meter.Report(progress.BlobDone)
	} else {
		hw.meter.Report(progress.BlobSkipped)
	}
	return nil
}

// pushing returns ctx asking, on r's registry, for pull and push on r and
// pull on the other repositories of that registry blobs will be mounted
// from (see [Repository.mountBlob]), so that a push through package auth
// costs one token request, as docker's does, rather than a pull token for
// its first HEAD and a push token after it (see package intent).
// Transports without an origin get ctx as it is.
func (r *Repository) pushing(ctx context.Context, blobs []image.Blob) context.Context {
	if r.t == nil {
		return ctx
	}
	ctx = intent.Push(ctx, r.t, r.name)
	seen := map[string]bool{r.name: true}
	for _, b := range blobs {
		if src, ok := b.Source(); ok && !seen[src.Repository] && mount.Same(src.Transport, r.t) {
			seen[src.Repository] = true
			ctx = intent.Pull(ctx, r.t, src.Repository)
		}
	}
	return ctx
}

// mountBlob mounts b from the repository it was pulled from, when that is
// another repository of this registry (see [image.Blob.Source]), and
// reports BlobMounted. It returns false, and no error, when b has no such
// source or the registry refused the mount: the caller then uploads it.
func (r *Repository) mountBlob(ctx context.Context, meter *verify.Meter, b image.Blob) (bool, error) {
	src, ok := b.Source()
	if !ok || src.Repository == r.name || !mount.Same(src.Transport, r.t) {
		return false, nil
	}
	d := b.Descriptor().Digest
	err := r.t.MountBlob(ctx, r.name, src.Repository, d)
	switch {
	case err == nil:
		meter.Report(progress.BlobMounted)
		return true, nil
	case mount.Refused(err):
		return false, nil
	}
	return false, fmt.Errorf("mount blob %s from %s: %w", d, src.Repository, err)
}

// highWater counts the bytes of a blob that the attempts of its upload
// read, each byte once however many attempts read it, even when the reads
// of an attempt that failed go on for a moment after it (an HTTP transport
// may still read a request body after its answer came).
type highWater struct {
	meter  *verify.Meter
	mu     sync.Mutex
	n      int64 // the most bytes one attempt read
	opened bool
}

// open notes that an attempt opened the blob, and reports BlobStarted the
// first time.
func (h *highWater) open() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opened = true
	h.meter.Report(progress.BlobStarted)
}

// read notes that an attempt has read the blob up to byte to, from byte
// from, and counts the bytes no attempt read before.
func (h *highWater) read(from, to int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if to > h.n {
		h.meter.Add(int(to - max(from, h.n)))
		h.n = to
	}
}

func (h *highWater) wasOpened() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.opened
}

// body returns the body of one attempt at uploading b: the blob opened on
// the first Read (so a blob the registry has is never opened), checked
// against its descriptor as it is read when check is set, and counted in h.
func (h *highWater) body(ctx context.Context, b image.Blob, check bool) *body.Lazy {
	return body.New(func() (io.ReadCloser, error) {
		// ctx carries no observer (the push took it): opening a blob of a
		// pulled image reports no pull of its own.
		rc, err := b.Open(ctx)
		if err != nil {
			return nil, fmt.Errorf("open blob %s: %w", b.Descriptor().Digest, err)
		}
		if check {
			if rc, err = verify.NewReader(rc, b.Descriptor()); err != nil {
				return nil, err
			}
		}
		h.open()
		return rc, nil
	}, func(from, to int64, _ error) { h.read(from, to) })
}

// putManifest stores raw by digest, or under each tag (the first put stores
// the manifest and its first tag at once), then reports ManifestDone.
func (r *Repository) putManifest(ctx context.Context, obs progress.Observer, desc ocispec.Descriptor, raw []byte, tags []string) error {
	if len(tags) == 0 {
		tags = []string{desc.Digest.String()}
	}
	for _, t := range tags {
		if _, err := r.t.PutManifest(ctx, r.name, t, desc.MediaType, raw, nil); err != nil {
			return fmt.Errorf("put manifest as %s: %w", t, err)
		}
	}
	obs.Report(progress.Event{Kind: progress.ManifestDone, Repository: r.name, Descriptor: desc, Done: int64(len(raw))})
	return nil
}

func (r *Repository) checkTags(tags []string) error {
	if r.err != nil {
		return r.err
	}
	for _, t := range tags {
		if err := spec.CheckTag(t); err != nil {
			return err
		}
	}
	return nil
}
