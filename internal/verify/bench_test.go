package verify

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"net"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// benchBlock is the 1 MiB of random bytes a benchmark blob repeats.
var benchBlock = func() []byte {
	b := make([]byte, 1<<20)
	rand.Read(b)
	return b
}()

// repeatReader reads size bytes of benchBlock over and over, in reads of
// at most 256 KiB (what a socket hands over at best).
type repeatReader struct{ off, size int64 }

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	i := int(r.off % int64(len(benchBlock)))
	p = p[:min(int64(len(p)), 256<<10, r.size-r.off)]
	n := copy(p, benchBlock[i:])
	r.off += int64(n)
	return n, nil
}

// benchDigest hashes size bytes of the repeated block, and returns the
// digest with the rate of crypto/sha256 alone, in bytes a second.
func benchDigest(size int64) (digest.Digest, float64) {
	h := sha256.New()
	start := time.Now()
	io.CopyBuffer(h, &repeatReader{size: size}, make([]byte, 256<<10))
	rate := float64(size) / time.Since(start).Seconds()
	return digest.NewDigest(digest.SHA256, h), rate
}

// loopback returns a TCP connection over loopback on which a goroutine
// writes size bytes of the repeated block: the kernel's copies and wake-ups
// of a registry on the same host, without HTTP.
func loopback(b *testing.B, ln net.Listener, size int64) io.ReadCloser {
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.CopyBuffer(c, &repeatReader{size: size}, make([]byte, 256<<10))
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkReader reads a blob of 8, 64 and 512 MiB through a Reader in
// 256 KiB reads (as io.Copy or a puller would), from memory and from a
// loopback TCP connection, with the hash computed on the reading goroutine
// (inline) and on a goroutine of its own (ahead, what blobs bigger than
// 4 MiB get). xsha256 is the rate over crypto/sha256's alone on the same
// bytes, measured just before: 1.0 means verification costs nothing more
// than the hash.
func BenchmarkReader(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	for _, mib := range []int64{8, 64, 512} {
		size := mib << 20
		d, shaRate := benchDigest(size)
		desc := ocispec.Descriptor{Digest: d, Size: size}
		for _, src := range []string{"mem", "tcp"} {
			for _, mode := range []string{"inline", "ahead"} {
				b.Run(fmt.Sprintf("%dMiB/%s/%s", mib, src, mode), func(b *testing.B) {
					b.SetBytes(size)
					buf := make([]byte, 256<<10)
					start := time.Now()
					for b.Loop() {
						var rc io.ReadCloser = io.NopCloser(&repeatReader{size: size})
						if src == "tcp" {
							rc = loopback(b, ln, size)
						}
						r, err := NewReader(rc, desc)
						if err != nil {
							b.Fatal(err)
						}
						if mode == "inline" {
							r.aheadMin = math.MaxInt64
						}
						for {
							_, err := r.Read(buf)
							if err == io.EOF {
								break
							}
							if err != nil {
								b.Fatal(err)
							}
						}
						r.Close()
					}
					rate := float64(size) * float64(b.N) / time.Since(start).Seconds()
					b.ReportMetric(rate/shaRate, "xsha256")
				})
			}
		}
	}
}
