package e2e

import (
	"context"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// loadStats counts what the load test did.
type loadStats struct {
	pushes, pulls, points, deletes atomic.Int64
	bytes                          atomic.Int64 // blob bytes pulled and verified
	raced                          atomic.Int64 // operations that lost a race to a delete
}

// TestLoad runs 64 clients against the fake over HTTP for a bounded time,
// each with a client of its own, pushing, pulling, moving and deleting tags
// and manifests in the same four repositories. Every pulled image must
// verify; the only failures allowed are those of an operation that lost a
// race to a concurrent delete (not found). When the loop stops, every tag
// must resolve to a complete image, the heap must be back near where it
// started, and no goroutine or connection may be left once the clients
// close their idle connections.
func TestLoad(t *testing.T) {
	const (
		clients  = 64
		duration = 3 * time.Second
	)
	srv := fake.Serve(t)
	var imgs []*image.Image
	for i := range 8 {
		imgs = append(imgs, withRandomLayer(t, appImage(t, "load", fmt.Sprint(i), 1+i%3), 64<<10*(1+i%4)))
	}
	known := map[digest.Digest]bool{}
	for _, img := range imgs {
		known[img.Descriptor().Digest] = true
	}
	repos := []string{"load/a", "load/b", "load/c", "load/d"}
	tags := []string{"t0", "t1", "t2", "t3", "latest"}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	ctx, stop := context.WithTimeout(t.Context(), duration)
	defer stop()
	var st loadStats
	var wg sync.WaitGroup
	var regs []*registry.Registry
	for c := range clients {
		reg, err := registry.New(srv.Host)
		require.NoError(t, err)
		regs = append(regs, reg)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for ctx.Err() == nil {
				repo := reg.Repository(repos[rng.IntN(len(repos))])
				tag := tags[rng.IntN(len(tags))]
				img := imgs[rng.IntN(len(imgs))]
				if err := loadStep(ctx, rng.IntN(20), repo, tag, img, known, &st); err != nil && ctx.Err() == nil {
					t.Errorf("client %d: %v", c, err)
					return
				}
			}
		})
	}
	wg.Wait()

	// Every tag resolves to a complete image.
	check := context.Background()
	reg, err := registry.New(srv.Host)
	require.NoError(t, err)
	tagged := 0
	for _, name := range repos {
		repo := reg.Repository(name)
		for tag, err := range repo.Tags(check, nil) {
			if errors.Is(err, transport.ErrNameUnknown) {
				break // no push to it won, or its last image was deleted
			}
			require.NoError(t, err)
			img, err := repo.Tag(tag).Image(check)
			require.NoError(t, err, "%s:%s", name, tag)
			require.True(t, known[img.Descriptor().Digest], "%s:%s points at an image nobody pushed", name, tag)
			_, err = pullAll(check, img)
			require.NoError(t, err, "%s:%s is not complete", name, tag)
			tagged++
		}
	}

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("load: %d clients for %v: %d pushes, %d pulls (%d MiB verified), %d tag moves, %d deletes; %d lost a race to a delete; %d tags complete at the end; heap %+.1f MiB",
		clients, duration, st.pushes.Load(), st.pulls.Load(), st.bytes.Load()>>20, st.points.Load(), st.deletes.Load(), st.raced.Load(), tagged, float64(grown)/(1<<20))
	require.Less(t, grown, int64(64<<20), "heap growth after the load")
	require.Positive(t, st.pushes.Load()+st.pulls.Load())

	// Once the clients close their idle connections, with the server still
	// up, every goroutine of the clients and of the server's side of their
	// connections ends: nothing is left running or connected.
	for _, r := range append(regs, reg) {
		r.CloseIdleConnections()
	}
	checkGoroutinesBack(t, goroutines, "the load test")
}

// loadStep does one operation of the load test: op 0-5 push, 6-13 pull,
// 14-17 move a tag, 18 delete a tag, 19 delete a manifest.
func loadStep(ctx context.Context, op int, repo *repository.Repository, tag string, img *image.Image, known map[digest.Digest]bool, st *loadStats) error {
	raced := func(err error) error {
		if errors.Is(err, transport.ErrNotFound) || errors.Is(err, transport.ErrManifestBlobUnknown) {
			st.raced.Add(1)
			return nil
		}
		return err
	}
	switch {
	case op < 6:
		st.pushes.Add(1)
		if _, err := repo.Push(ctx, img, tag); err != nil {
			return raced(fmt.Errorf("push %s:%s: %w", repo.Name(), tag, err))
		}
	case op < 14:
		st.pulls.Add(1)
		got, err := repo.Tag(tag).Image(ctx)
		if err != nil {
			return raced(fmt.Errorf("pull %s:%s: %w", repo.Name(), tag, err))
		}
		if !known[got.Descriptor().Digest] {
			return fmt.Errorf("pull %s:%s: got %s, which nobody pushed", repo.Name(), tag, got.Descriptor().Digest)
		}
		n, err := pullAll(ctx, got)
		st.bytes.Add(n)
		if err != nil {
			return raced(fmt.Errorf("pull blobs of %s:%s: %w", repo.Name(), tag, err))
		}
	case op < 18:
		st.points.Add(1)
		if err := repo.Tag(tag).Point(ctx, img.Descriptor()); err != nil {
			return raced(fmt.Errorf("point %s:%s: %w", repo.Name(), tag, err))
		}
	default:
		st.deletes.Add(1)
		if op == 18 {
			if _, err := repo.Tag(tag).Delete(ctx); err != nil {
				return raced(fmt.Errorf("delete tag %s:%s: %w", repo.Name(), tag, err))
			}
			return nil
		}
		if err := repo.Delete(ctx, img.Descriptor().Digest); err != nil {
			return raced(fmt.Errorf("delete %s@%s: %w", repo.Name(), img.Descriptor().Digest, err))
		}
	}
	return nil
}

// withRandomLayer returns img with one more layer of size random bytes, so
// that pulls under load move real amounts of data.
func withRandomLayer(t *testing.T, img *image.Image, size int) *image.Image {
	t.Helper()
	p := make([]byte, size)
	cryptorand.Read(p)
	layer, diffID := testimage.Layer(ocispec.MediaTypeImageLayer, p)
	out, err := mutate.Append(t.Context(), img, []mutate.Layer{{Blob: layer, DiffID: diffID}}, nil)
	require.NoError(t, err)
	return out
}

// pullAll reads every blob of img to its verified end and returns the bytes
// read.
func pullAll(ctx context.Context, img *image.Image) (int64, error) {
	var total int64
	for _, b := range img.Blobs() {
		rc, err := b.Open(ctx)
		if err != nil {
			return total, err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
