// Command progress draws a live progress bar for a push, a pull and a copy:
// it pushes an image of six 16 MiB layers to a registry, pulls it back, and
// copies it to a second registry, each with one bar that counts bytes and
// blobs as they move, and a summary line.
//
// The bars come from one event stream: [progress.With] puts an
// observer in the context, and every push, pull and copy made with that
// context reports to it, blob by blob (started, bytes, verified, done, or
// skipped, mounted) and manifest by manifest. Both registries are regkit's
// fake, served over HTTP on loopback; the layers are generated as they are
// read, never held whole in memory.
//
//	go run ./examples/progress
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository/progress"
)

const (
	layers    = 6
	layerSize = 16 << 20
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	origin, mirror := fake.NewServer(), fake.NewServer()
	defer origin.Close()
	defer mirror.Close()
	reg, err := registry.New(origin.Host)
	if err != nil {
		return err
	}
	mirrorReg, err := registry.New(mirror.Host)
	if err != nil {
		return err
	}
	img, err := generatedImage()
	if err != nil {
		return err
	}
	repo := reg.Repository("demo/app")

	push := newBar(w, "push", img)
	if _, err := repo.Push(progress.With(ctx, push.observe), img, "1.0"); err != nil {
		return err
	}
	push.finish()

	pull := newBar(w, "pull", img)
	if err := pullAll(progress.With(ctx, pull.observe), repo.Tag("1.0").Image); err != nil {
		return err
	}
	pull.finish()

	cp := newBar(w, "copy", img)
	if _, err := regkit.Copy(progress.With(ctx, cp.observe), repo, "1.0", mirrorReg.Repository("demo/app"), nil); err != nil {
		return err
	}
	cp.finish()
	return nil
}

// pullAll fetches the image and reads all its blobs at once, each to its
// end, which verifies it.
func pullAll(ctx context.Context, fetch func(context.Context) (*image.Image, error)) error {
	img, err := fetch(ctx)
	if err != nil {
		return err
	}
	blobs := img.Blobs()
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, b := range blobs {
		wg.Go(func() {
			rc, err := b.Open(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer rc.Close()
			_, errs[i] = io.Copy(io.Discard, rc)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// bar draws the progress of one operation on one line, redrawn in place
// ("\r") at most every 100ms. Its observe method is the progress observer:
// it is called from several goroutines at once, so a mutex guards the
// counts.
type bar struct {
	w          io.Writer
	name       string
	totalBytes int64
	totalBlobs int
	start      time.Time

	mu                      sync.Mutex
	done                    map[digest.Digest]int64 // bytes done, per blob
	bytes                   int64                   // the sum of done
	moved, skipped, mounted int                     // blobs finished, by how
	verified, manifests     int
	drawn                   time.Time
}

func newBar(w io.Writer, name string, img *image.Image) *bar {
	b := &bar{w: w, name: name, start: time.Now(), done: map[digest.Digest]int64{}}
	for _, blob := range img.Blobs() {
		b.totalBytes += blob.Descriptor().Size
		b.totalBlobs++
	}
	return b
}

func (b *bar) observe(p progress.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch p.Kind {
	case progress.BlobBytes:
		b.setDone(p.Descriptor.Digest, p.Done)
	case progress.BlobVerified:
		b.verified++
	case progress.BlobDone:
		b.setDone(p.Descriptor.Digest, p.Done)
		b.moved++
	case progress.BlobSkipped:
		b.setDone(p.Descriptor.Digest, p.Descriptor.Size)
		b.skipped++
	case progress.BlobMounted:
		b.setDone(p.Descriptor.Digest, p.Descriptor.Size)
		b.mounted++
	case progress.ManifestDone:
		b.manifests++
	}
	if time.Since(b.drawn) >= 100*time.Millisecond {
		b.draw()
	}
}

func (b *bar) setDone(d digest.Digest, n int64) {
	b.bytes += n - b.done[d]
	b.done[d] = n
}

// draw redraws the line; b.mu is held.
func (b *bar) draw() {
	const width = 30
	filled := int(width * b.bytes / max(b.totalBytes, 1))
	fmt.Fprintf(b.w, "\r%s [%s%s] %5.1f/%.1f MiB  %d/%d blobs",
		b.name, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		mib(b.bytes), mib(b.totalBytes), b.moved+b.skipped+b.mounted, b.totalBlobs)
	b.drawn = time.Now()
}

// finish draws the bar one last time and prints the summary line.
func (b *bar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw()
	fmt.Fprintf(b.w, "\n%s: %d/%d blobs (%d moved, %d verified, %d skipped, %d mounted), %d manifest, %.1f MiB in %s\n",
		b.name, b.moved+b.skipped+b.mounted, b.totalBlobs, b.moved, b.verified, b.skipped, b.mounted,
		b.manifests, mib(b.bytes), time.Since(b.start).Round(time.Millisecond))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// generatedImage builds an image of six layers of deterministic noise and
// a config that lists them.
func generatedImage() (*image.Image, error) {
	var ls []image.Blob
	var diffIDs []digest.Digest
	for i := range layers {
		l, err := noiseLayer(byte(i), layerSize)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		diffIDs = append(diffIDs, l.Descriptor().Digest)
	}
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		return nil, err
	}
	return image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, config), ls, nil)
}

// noiseLayer returns an uncompressed layer: a tar holding one file of size
// bytes of noise seeded by seed. The bytes are generated anew each time
// the layer is opened; its digest, which is also its diff_id as it is not
// compressed, is computed once, by streaming them.
func noiseLayer(seed byte, size int64) (image.Blob, error) {
	var hdr bytes.Buffer
	if err := tar.NewWriter(&hdr).WriteHeader(&tar.Header{Name: fmt.Sprintf("noise/%d", seed), Mode: 0o644, Size: size}); err != nil {
		return image.Blob{}, err
	}
	// After the header: the file, padding to a 512-byte block, and the
	// two zero blocks that end a tar.
	trailer := make([]byte, (512-size%512)%512+1024)
	gen := func() io.Reader {
		return io.MultiReader(bytes.NewReader(hdr.Bytes()), io.LimitReader(rand.NewChaCha8([32]byte{seed}), size), bytes.NewReader(trailer))
	}
	tarSize := int64(hdr.Len()+len(trailer)) + size
	d := digest.Canonical.Digester()
	if _, err := io.Copy(d.Hash(), gen()); err != nil {
		return image.Blob{}, err
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d.Digest(), Size: tarSize}
	return image.NewBlob(desc, func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(gen()), nil
	}), nil
}
