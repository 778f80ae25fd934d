package repository_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// progressLog records the events an observer receives, from any goroutine.
type progressLog struct {
	mu sync.Mutex
	ps []progress.Event
}

func (l *progressLog) observe(p progress.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ps = append(l.ps, p)
}

// blobs returns the events of each blob, in order.
func (l *progressLog) blobs() map[digest.Digest][]progress.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[digest.Digest][]progress.Event{}
	for _, p := range l.ps {
		if p.Kind != progress.ManifestDone {
			out[p.Descriptor.Digest] = append(out[p.Descriptor.Digest], p)
		}
	}
	return out
}

// manifests returns the ManifestDone events.
func (l *progressLog) manifests() []progress.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []progress.Event
	for _, p := range l.ps {
		if p.Kind == progress.ManifestDone {
			out = append(out, p)
		}
	}
	return out
}

// all returns every event.
func (l *progressLog) all() []progress.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ps)
}

// checkStreamed checks the events of a blob that moved: BlobStarted, then
// BlobBytes events at least 256 KiB apart (but the last) ending at the
// blob's size, then BlobVerified when verified, then BlobDone.
func checkStreamed(t *testing.T, evs []progress.Event, desc ocispec.Descriptor, verified bool) {
	t.Helper()
	kinds := make([]progress.Kind, len(evs))
	for i, p := range evs {
		kinds[i] = p.Kind
		if p.Descriptor.Digest != desc.Digest || p.Descriptor.Size != desc.Size {
			t.Errorf("blob %s: event %d describes %s (%d bytes)", desc.Digest, i, p.Descriptor.Digest, p.Descriptor.Size)
		}
	}
	tail := []progress.Kind{progress.BlobDone}
	if verified {
		tail = []progress.Kind{progress.BlobVerified, progress.BlobDone}
	}
	if len(kinds) < 2+len(tail) || kinds[0] != progress.BlobStarted || !slices.Equal(kinds[len(kinds)-len(tail):], tail) {
		t.Fatalf("blob %s (%d bytes): events %v, want started, bytes…, %v", desc.Digest, desc.Size, kinds, tail)
	}
	bytesEvs := evs[1 : len(evs)-len(tail)]
	var last int64
	for i, p := range bytesEvs {
		if p.Kind != progress.BlobBytes {
			t.Fatalf("blob %s: events %v, want bytes between started and %v", desc.Digest, kinds, tail)
		}
		if p.Done <= last || (i < len(bytesEvs)-1 && p.Done-last < 256<<10) {
			t.Errorf("blob %s: bytes event %d at %d after %d, want at least 256 KiB more (but the last)", desc.Digest, i, p.Done, last)
		}
		last = p.Done
	}
	if last != desc.Size || evs[len(evs)-1].Done != desc.Size {
		t.Errorf("blob %s: last bytes at %d, done at %d, want %d", desc.Digest, last, evs[len(evs)-1].Done, desc.Size)
	}
	if limit := desc.Size/(256<<10) + 1; int64(len(bytesEvs)) > limit {
		t.Errorf("blob %s: %d bytes events for %d bytes, want at most %d", desc.Digest, len(bytesEvs), desc.Size, limit)
	}
}

// checkAlone checks that a blob reported only kind.
func checkAlone(t *testing.T, evs []progress.Event, desc ocispec.Descriptor, kind progress.Kind) {
	t.Helper()
	if len(evs) != 1 || evs[0].Kind != kind || evs[0].Done != 0 {
		t.Errorf("blob %s: events %v, want one %v", desc.Digest, evs, kind)
	}
}

// bigImage builds a linux/arch image whose layers span several BlobBytes
// events, one of them small. Different salts give different blobs.
func bigImage(t *testing.T, salt, arch string) *image.Image {
	t.Helper()
	layer := func(n int, b byte) []byte {
		p := bytes.Repeat([]byte{b}, n)
		copy(p, salt)
		return p
	}
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: arch}, "", ocispec.MediaTypeImageLayer,
		[][]byte{layer(1<<20+13, 'a'), layer(700<<10, 'b'), layer(100, 'c'), layer(3<<20, 'd')},
		map[string]string{"salt": salt}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestPushProgress(t *testing.T) {
	t.Parallel()
	repo := fake.New().Repository("myapp1")
	img := bigImage(t, "push", "amd64")

	var first progressLog
	if _, err := repo.Push(progress.With(t.Context(), first.observe), img, "1.0", "latest"); err != nil {
		t.Fatal(err)
	}
	got := first.blobs()
	if len(got) != len(img.Blobs()) {
		t.Fatalf("events for %d blobs, want %d", len(got), len(img.Blobs()))
	}
	for _, b := range img.Blobs() {
		checkStreamed(t, got[b.Descriptor().Digest], b.Descriptor(), false)
	}
	for _, p := range first.all() {
		if p.Repository != "myapp1" {
			t.Errorf("event %v names repository %q, want myapp1", p.Kind, p.Repository)
		}
	}
	if m := first.manifests(); len(m) != 1 || m[0].Descriptor.Digest != img.Descriptor().Digest || m[0].Done != int64(len(img.Raw())) {
		t.Errorf("manifest events %+v, want one for %s (once for both tags)", m, img.Descriptor().Digest)
	}
	if last := first.all()[len(first.all())-1]; last.Kind != progress.ManifestDone {
		t.Errorf("last event %v, want the manifest after every blob", last.Kind)
	}

	// The blobs are there: a push under a new tag skips every one.
	var again progressLog
	if _, err := repo.Push(progress.With(t.Context(), again.observe), img, "2.0"); err != nil {
		t.Fatal(err)
	}
	got = again.blobs()
	for _, b := range img.Blobs() {
		checkAlone(t, got[b.Descriptor().Digest], b.Descriptor(), progress.BlobSkipped)
	}
	if m := again.manifests(); len(m) != 1 {
		t.Errorf("re-push: %d manifest events, want 1", len(m))
	}

	// When the tags already point at the image, nothing moves.
	var none progressLog
	if _, err := repo.Push(progress.With(t.Context(), none.observe), img, "1.0"); err != nil {
		t.Fatal(err)
	}
	if evs := none.all(); len(evs) != 0 {
		t.Errorf("push of a present image reported %d events, want none", len(evs))
	}
}

// TestPushPulledImageProgress pushes an image pulled from another
// repository: every event names the destination, and the pull that feeds
// the push reports nothing.
func TestPushPulledImageProgress(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, dst := fake.New().Repository("src"), fake.New().Repository("dst")
	img := bigImage(t, "pulled", "amd64")
	desc, err := src.Push(ctx, img, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := src.Image(ctx, desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var log progressLog
	if _, err := dst.Push(progress.With(ctx, log.observe), pulled, "1.0"); err != nil {
		t.Fatal(err)
	}
	for _, p := range log.all() {
		if p.Repository != "dst" {
			t.Errorf("event %v of %s names %q, want dst", p.Kind, p.Descriptor.Digest, p.Repository)
		}
	}
	got := log.blobs()
	for _, b := range img.Blobs() {
		checkStreamed(t, got[b.Descriptor().Digest], b.Descriptor(), false)
	}
}

func TestPushPlatformsProgress(t *testing.T) {
	t.Parallel()
	repo := fake.New().Repository("multi")
	imgs := []*image.Image{bigImage(t, "amd64", "amd64"), bigImage(t, "arm64", "arm64")}
	var log progressLog
	ix, err := repo.PushPlatforms(progress.With(t.Context(), log.observe), imgs, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	var got []digest.Digest
	for _, m := range log.manifests() {
		got = append(got, m.Descriptor.Digest)
	}
	want := []digest.Digest{imgs[0].Descriptor().Digest, imgs[1].Descriptor().Digest, ix.Descriptor().Digest}
	if !slices.Equal(got, want) {
		t.Errorf("manifest events %v, want %v (each image, then the index)", got, want)
	}
}

// corrupter serves blobs through a store with their last byte flipped.
type corrupter struct {
	transport.Transport
}

func (c corrupter) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	rc, desc, err := c.Transport.GetBlob(ctx, repo, d)
	if err != nil {
		return nil, desc, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, desc, err
	}
	b[len(b)-1] ^= 0xff
	return io.NopCloser(bytes.NewReader(b)), desc, nil
}

func TestPullProgress(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	img := bigImage(t, "pull", "amd64")
	desc, err := repository.New(store, "myapp1").Push(t.Context(), img, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		t       transport.Transport
		wantErr error
	}{
		{name: "verified", t: store},
		{name: "corrupted", t: corrupter{store}, wantErr: transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log progressLog
			ctx := progress.With(t.Context(), log.observe)
			pulled, err := repository.New(tc.t, "myapp1").Image(ctx, desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if m := log.manifests(); len(m) != 1 || m[0].Descriptor.Digest != desc.Digest || m[0].Done != desc.Size || m[0].Repository != "myapp1" {
				t.Errorf("manifest events %+v, want one for %s", m, desc.Digest)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(pulled.Blobs()))
			for i, b := range pulled.Blobs() {
				wg.Go(func() { errs[i] = readAll(ctx, b) })
			}
			wg.Wait()
			got := log.blobs()
			for i, b := range img.Blobs() {
				d := b.Descriptor()
				if !errors.Is(errs[i], tc.wantErr) {
					t.Errorf("read blob %s = %v, want %v", d.Digest, errs[i], tc.wantErr)
				}
				if tc.wantErr == nil {
					checkStreamed(t, got[d.Digest], d, true)
					continue
				}
				evs := got[d.Digest]
				if len(evs) == 0 || evs[0].Kind != progress.BlobStarted {
					t.Errorf("corrupted blob %s: events %v, want started first", d.Digest, evs)
				}
				for _, p := range evs {
					if p.Kind == progress.BlobVerified || p.Kind == progress.BlobDone {
						t.Errorf("corrupted blob %s reported %v", d.Digest, p.Kind)
					}
				}
			}
		})
	}
}

// readAll reads b to its end.
func readAll(ctx context.Context, b image.Blob) error {
	rc, err := b.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// checkOnce checks that every event names repo and that no event but
// BlobBytes reaches the observer twice for the same blob or manifest.
func checkOnce(t *testing.T, evs []progress.Event, repo string) {
	t.Helper()
	type key struct {
		kind progress.Kind
		d    digest.Digest
	}
	seen := map[key]bool{}
	for _, p := range evs {
		if p.Repository != repo {
			t.Errorf("event %v of %s names %q, want %s", p.Kind, p.Descriptor.Digest, p.Repository, repo)
		}
		k := key{p.Kind, p.Descriptor.Digest}
		if p.Kind != progress.BlobBytes && seen[k] {
			t.Errorf("event %v of %s reported twice", p.Kind, p.Descriptor.Digest)
		}
		seen[k] = true
	}
}

// TestPushPlatformsPulledProgress pushes the platforms of images pulled
// from another repository: reading their configs to build the index, and
// opening their blobs to upload them, are not pulls of their own, so every
// event names the destination, and each is reported once.
func TestPushPlatformsPulledProgress(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, dst := fake.New().Repository("src"), fake.New().Repository("dst")
	var pulled []*image.Image
	for _, arch := range []string{"amd64", "arm64"} {
		desc, err := src.Push(ctx, bigImage(t, "pp-"+arch, arch))
		if err != nil {
			t.Fatal(err)
		}
		img, err := src.Image(ctx, desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		pulled = append(pulled, img)
	}
	var log progressLog
	ix, err := dst.PushPlatforms(progress.With(ctx, log.observe), pulled, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	checkOnce(t, log.all(), "dst")
	got := log.blobs()
	for _, img := range pulled {
		for _, b := range img.Blobs() {
			checkStreamed(t, got[b.Descriptor().Digest], b.Descriptor(), false)
		}
	}
	if n := len(log.manifests()); n != 3 {
		t.Errorf("%d manifest events, want 3 (two images, then the index %s)", n, ix.Descriptor().Digest)
	}
}
