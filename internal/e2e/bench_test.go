package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/remote"
)

// countingRT counts the requests that go through it.
type countingRT struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// genReader is a deterministic stream of pseudo-random bytes, so a big blob
// never has to be held in memory to be pushed.
type genReader struct {
	rng  *rand.ChaCha8
	left int64
}

func newGen(seed byte, size int64) *genReader {
	var s [32]byte
	s[0] = seed
	return &genReader{rng: rand.NewChaCha8(s), left: size}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, _ := g.rng.Read(p)
	g.left -= int64(n)
	return n, nil
}

// bigBlob returns a streamed blob of size bytes; its digest is computed by
// one pass over the generator.
func bigBlob(b *testing.B, seed byte, size int64) image.Blob {
	h := sha256.New()
	if _, err := io.Copy(h, newGen(seed, size)); err != nil {
		b.Fatal(err)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.NewDigest(digest.SHA256, h), Size: size}
	return image.NewBlob(desc, func(context.Context) (io.ReadCloser, error) { return io.NopCloser(newGen(seed, size)), nil })
}

// peakHeap samples the heap while f runs and returns the growth over the
// heap before f, in MiB.
func peakHeap(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > base {
		return float64(p-base) / (1 << 20)
	}
	return 0
}

type benchTarget struct {
	name string
	host func(b *testing.B) string
}

var benchTargets = []benchTarget{
	{"fake-http", func(b *testing.B) string { return fake.Serve(b).Host }},
	{"docker-registry", func(b *testing.B) string { return regtest.Distribution(b, "") }},
}

func benchRegistry(b *testing.B, host string) (*registry.Registry, *countingRT) {
	rt := &countingRT{base: http.DefaultTransport.(*http.Transport).Clone()}
	reg, err := registry.New(host, registry.WithClientOptions(remote.WithRoundTripper(rt)))
	if err != nil {
		b.Fatal(err)
	}
	return reg, rt
}

// BenchmarkBigBlob pushes and pulls one 512 MiB blob (the size of issue 7's
// big-blob scenario), streamed from a
// generator, reporting MB/s, requests and the client's peak heap growth.
func BenchmarkBigBlob(b *testing.B) {
	const size = 512 << 20
	for _, tgt := range benchTargets {
		b.Run(tgt.name, func(b *testing.B) {
			reg, rt := benchRegistry(b, tgt.host(b))
			b.Run("push", func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				var heap float64
				i := 0
				for b.Loop() {
					b.StopTimer()
					blob := bigBlob(b, byte(i), size)
					i++
					rt.n.Store(0)
					b.StartTimer()
					heap = max(heap, peakHeap(func() {
						if err := reg.Repository("big").PushBlob(b.Context(), blob); err != nil {
							b.Fatal(err)
						}
					}))
				}
				b.ReportMetric(float64(rt.n.Load()), "requests/op")
				if tgt.name != "fake-http" { // there the server's copy is in this heap too
					b.ReportMetric(heap, "peak-heap-MiB")
				}
			})
			b.Run("pull", func(b *testing.B) {
				blob := bigBlob(b, 200, size)
				if err := reg.Repository("big").PushBlob(b.Context(), blob); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(size)
				b.ReportAllocs()
				var heap float64
				for b.Loop() {
					rt.n.Store(0)
					heap = max(heap, peakHeap(func() {
						rc, err := reg.Repository("big").Blob(b.Context(), blob.Descriptor())
						if err != nil {
							b.Fatal(err)
						}
						if _, err := io.Copy(io.Discard, rc); err != nil {
							b.Fatal(err)
						}
						rc.Close()
					}))
				}
				b.ReportMetric(float64(rt.n.Load()), "requests/op")
				b.ReportMetric(heap, "peak-heap-MiB")
			})
		})
	}
}

// smallImage builds an image of n layers of 1 MiB each.
func smallImage(b *testing.B, seed int, n int) *image.Image {
	var contents [][]byte
	for i := range n {
		p := make([]byte, 1<<20)
		r := newGen(byte(seed*31+i), int64(len(p)))
		io.ReadFull(r, p)
		contents = append(contents, p)
	}
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "", ocispec.MediaTypeImageLayer,
		contents, map[string]string{"seed": fmt.Sprint(seed)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkImage20 pushes a new image of 20 layers of 1 MiB, re-pushes it
// unchanged, and pulls it, reporting requests per operation.
func BenchmarkImage20(b *testing.B) {
	for _, tgt := range benchTargets {
		b.Run(tgt.name, func(b *testing.B) {
			reg, rt := benchRegistry(b, tgt.host(b))
			repo := reg.Repository("small")
			b.Run("push", func(b *testing.B) {
				b.SetBytes(20 << 20)
				b.ReportAllocs()
				var reqs int64
				i := 0
				for b.Loop() {
					b.StopTimer()
					img := smallImage(b, i, 20)
					i++
					rt.n.Store(0)
					b.StartTimer()
					if _, err := repo.Push(b.Context(), img, "latest"); err != nil {
						b.Fatal(err)
					}
					reqs = rt.n.Load()
				}
				b.ReportMetric(float64(reqs), "requests/op")
			})
			img := smallImage(b, 1000, 20)
			if _, err := repo.Push(b.Context(), img, "v1"); err != nil {
				b.Fatal(err)
			}
			b.Run("repush", func(b *testing.B) {
				var reqs int64
				for b.Loop() {
					rt.n.Store(0)
					if _, err := repo.Push(b.Context(), img, "v1"); err != nil {
						b.Fatal(err)
					}
					reqs = rt.n.Load()
				}
				b.ReportMetric(float64(reqs), "requests/op")
			})
			b.Run("pull", func(b *testing.B) {
				b.SetBytes(20 << 20)
				b.ReportAllocs()
				var reqs int64
				for b.Loop() {
					rt.n.Store(0)
					pulled, err := repo.Tag("v1").Image(b.Context())
					if err != nil {
						b.Fatal(err)
					}
					for _, l := range pulled.Layers() {
						rc, err := l.Open(b.Context())
						if err != nil {
							b.Fatal(err)
						}
						if _, err := io.Copy(io.Discard, rc); err != nil {
							b.Fatal(err)
						}
						rc.Close()
					}
					reqs = rt.n.Load()
				}
				b.ReportMetric(float64(reqs), "requests/op")
			})
			b.Run("copy", func(b *testing.B) {
				b.ReportAllocs()
				var reqs int64
				i := 0
				for b.Loop() {
					dst := reg.Repository(fmt.Sprintf("copies/c%d", i))
					i++
					rt.n.Store(0)
					if _, err := regkit.Copy(b.Context(), repo, "v1", dst, nil); err != nil {
						b.Fatal(err)
					}
					reqs = rt.n.Load()
				}
				b.ReportMetric(float64(reqs), "requests/op")
			})
		})
	}
}
