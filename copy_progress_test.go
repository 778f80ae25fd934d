package regkit_test

import (
	"bytes"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// progressRecorder records the events an observer receives, from any
// goroutine.
type progressRecorder struct {
	mu sync.Mutex
	ps []progress.Event
}

func (r *progressRecorder) observe(p progress.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ps = append(r.ps, p)
}

func (r *progressRecorder) all() []progress.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ps)
}

// blobKinds returns the kinds each blob reported, in order.
func (r *progressRecorder) blobKinds() map[digest.Digest][]progress.Kind {
	out := map[digest.Digest][]progress.Kind{}
	for _, p := range r.all() {
		if p.Kind != progress.ManifestDone {
			out[p.Descriptor.Digest] = append(out[p.Descriptor.Digest], p.Kind)
		}
	}
	return out
}

// manifestsDone returns the digests of the ManifestDone events, in order.
func (r *progressRecorder) manifestsDone() []digest.Digest {
	var out []digest.Digest
	for _, p := range r.all() {
		if p.Kind == progress.ManifestDone {
			out = append(out, p.Descriptor.Digest)
		}
	}
	return out
}

// requireStreamed checks the events of a blob that streamed: started,
// bytes… ending at its size, verified, done.
func requireStreamed(t *testing.T, rec *progressRecorder, desc ocispec.Descriptor) {
	t.Helper()
	var evs []progress.Event
	for _, p := range rec.all() {
		if p.Kind != progress.ManifestDone && p.Descriptor.Digest == desc.Digest {
			evs = append(evs, p)
		}
	}
	kinds := rec.blobKinds()[desc.Digest]
	require.GreaterOrEqual(t, len(kinds), 4, "blob %s: %v", desc.Digest, kinds)
	require.Equal(t, progress.BlobStarted, kinds[0], "blob %s: %v", desc.Digest, kinds)
	require.Equal(t, []progress.Kind{progress.BlobVerified, progress.BlobDone}, kinds[len(kinds)-2:], "blob %s: %v", desc.Digest, kinds)
	var last int64
	for _, p := range evs[1 : len(evs)-2] {
		require.Equal(t, progress.BlobBytes, p.Kind, "blob %s: %v", desc.Digest, kinds)
		require.Greater(t, p.Done, last, "bytes grow")
		last = p.Done
	}
	require.Equal(t, desc.Size, last, "blob %s: the last bytes event counts every byte", desc.Digest)
	require.Equal(t, desc.Size, evs[len(evs)-1].Done)
}

// progressImage builds an image with layers big enough for several bytes
// events; the layers are the same whatever comment, the config is not.
func progressImage(t *testing.T, comment string) *image.Image {
	t.Helper()
	var contents [][]byte
	for i, n := range []int{1<<20 + 7, 600 << 10, 10} {
		contents = append(contents, bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "", ocispec.MediaTypeImageLayer,
		contents, map[string]string{"comment": comment}, nil)
	require.NoError(t, err)
	return img
}

// requireRepository checks that every event names repo.
func requireRepository(t *testing.T, rec *progressRecorder, repo string) {
	t.Helper()
	for _, p := range rec.all() {
		require.Equal(t, repo, p.Repository, "%v of %s", p.Kind, p.Descriptor.Digest)
	}
}

// TestCopyProgressSameRegistryHTTP mounts every blob: each reports
// mounted alone, and the manifest written reports once.
func TestCopyProgressSameRegistryHTTP(t *testing.T) {
	t.Parallel()
	_, reg := serve(t)
	src, dst := reg.Repository("app"), reg.Repository("prod/app")
	img := progressImage(t, "same")
	desc, err := src.Push(t.Context(), img, "3.0", "latest")
	require.NoError(t, err)

	var rec progressRecorder
	_, err = regkit.Copy(progress.With(t.Context(), rec.observe), src, "3.0", dst, &regkit.CopyOptions{Tags: []string{"3.0", "latest"}})
	require.NoError(t, err)
	got := rec.blobKinds()
	require.Len(t, got, len(img.Blobs()))
	for _, b := range img.Blobs() {
		require.Equal(t, []progress.Kind{progress.BlobMounted}, got[b.Descriptor().Digest])
	}
	require.Equal(t, []digest.Digest{desc.Digest}, rec.manifestsDone(), "once, whatever the tags")
	requireRepository(t, &rec, "prod/app")
}

// TestCopyProgressAcrossRegistriesHTTP streams every blob from one
// registry to another, then copies an image sharing its layers (skipped),
// then copies again (nothing to report).
func TestCopyProgressAcrossRegistriesHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, from := serve(t)
	_, to := serve(t)
	src, dst := from.Repository("app"), to.Repository("prod/app")
	img, sibling := progressImage(t, "first"), progressImage(t, "sibling")
	desc, err := src.Push(ctx, img, "1.0")
	require.NoError(t, err)
	sibDesc, err := src.Push(ctx, sibling, "2.0")
	require.NoError(t, err)

	var rec progressRecorder
	rep, err := regkit.Copy(progress.With(ctx, rec.observe), src, "1.0", dst, nil)
	require.NoError(t, err)
	require.Len(t, rec.blobKinds(), len(img.Blobs()))
	for _, b := range img.Blobs() {
		requireStreamed(t, &rec, b.Descriptor())
	}
	require.Equal(t, []digest.Digest{desc.Digest}, rec.manifestsDone())
	require.Equal(t, progress.ManifestDone, rec.all()[len(rec.all())-1].Kind, "the manifest after its blobs")
	requireRepository(t, &rec, "prod/app") // the source's reads report nothing
	var streamed int64
	for _, p := range rec.all() {
		if p.Kind == progress.BlobDone {
			streamed += p.Done
		}
	}
	require.Equal(t, rep.Bytes()-desc.Size, streamed, "the events count what the report counts")

	// The sibling shares the layers: they are skipped, its config streams.
	var sib progressRecorder
	_, err = regkit.Copy(progress.With(ctx, sib.observe), src, "2.0", dst, nil)
	require.NoError(t, err)
	got := sib.blobKinds()
	for _, l := range sibling.Layers() {
		require.Equal(t, []progress.Kind{progress.BlobSkipped}, got[l.Descriptor().Digest])
	}
	requireStreamed(t, &sib, sibling.Config().Descriptor())
	require.Equal(t, []digest.Digest{sibDesc.Digest}, sib.manifestsDone())

	// dst has it all: a copy again writes, and reports, nothing.
	var again progressRecorder
	_, err = regkit.Copy(progress.With(ctx, again.observe), src, "1.0", dst, nil)
	require.NoError(t, err)
	require.Empty(t, again.all())
}

// TestCopyProgressIndex copies an index: each manifest written reports
// once, children before the index.
func TestCopyProgressIndex(t *testing.T) {
	t.Parallel()
	src := repository.New(fake.NewStore(), "app")
	dst := repository.New(fake.NewStore(), "prod/app")
	ix, imgs := pushPlatforms(t, src, false)

	var rec progressRecorder
	_, err := regkit.Copy(progress.With(t.Context(), rec.observe), src, "3.0", dst, nil)
	require.NoError(t, err)
	var want []digest.Digest
	for _, img := range imgs {
		want = append(want, img.Descriptor().Digest)
		for _, b := range img.Blobs() {
			requireStreamed(t, &rec, b.Descriptor())
		}
	}
	got := rec.manifestsDone()
	require.Len(t, got, len(imgs)+1)
	require.ElementsMatch(t, want, got[:len(imgs)])
	require.Equal(t, ix.Descriptor().Digest, got[len(imgs)])
	// The reads of the source report nothing: every event is the copy's,
	// names the destination, and comes once (BlobBytes aside).
	type key struct {
		kind progress.Kind
		d    digest.Digest
	}
	seen := map[key]bool{}
	for _, p := range rec.all() {
		require.Equal(t, "prod/app", p.Repository, "event %v of %s", p.Kind, p.Descriptor.Digest)
		k := key{p.Kind, p.Descriptor.Digest}
		require.False(t, p.Kind != progress.BlobBytes && seen[k], "event %v of %s reported twice", p.Kind, p.Descriptor.Digest)
		seen[k] = true
	}
}

// TestCopyProgressDryRun reports nothing.
func TestCopyProgressDryRun(t *testing.T) {
	t.Parallel()
	src := repository.New(fake.NewStore(), "app")
	dst := repository.New(fake.NewStore(), "prod/app")
	_, err := src.Push(t.Context(), progressImage(t, "dry"), "1.0")
	require.NoError(t, err)
	var rec progressRecorder
	rep, err := regkit.Copy(progress.With(t.Context(), rec.observe), src, "1.0", dst, &regkit.CopyOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, 5, rep.Count(regkit.WouldCopy), "4 blobs and the manifest")
	require.Empty(t, rec.all())
}

// TestCopyProgressCorruptSource: the blob whose bytes do not match never
// reports verified or done.
func TestCopyProgressCorruptSource(t *testing.T) {
	t.Parallel()
	img := progressImage(t, "corrupt")
	bad := img.Layers()[0].Descriptor()
	src, dst, _ := spied(t, &spy{corrupt: bad.Digest}, img)
	var rec progressRecorder
	_, err := regkit.Copy(progress.With(t.Context(), rec.observe), src, "3.0", dst, &regkit.CopyOptions{Concurrency: 1})
	require.ErrorIs(t, err, transport.ErrDigestInvalid)
	kinds := rec.blobKinds()[bad.Digest]
	require.NotEmpty(t, kinds)
	require.Equal(t, progress.BlobStarted, kinds[0])
	require.NotContains(t, kinds, progress.BlobVerified)
	require.NotContains(t, kinds, progress.BlobDone)
	require.Empty(t, rec.manifestsDone())
}
