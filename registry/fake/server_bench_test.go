//go:build unix

package fake

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/regkit/regkit/transport/remote"
)

// BenchmarkServerBlob pushes and pulls a blob of 8, 64 and 512 MiB through
// regkit's HTTP client to a [Server] on loopback. Besides MB/s it reports
// xsha256, the speed relative to hashing the same bytes with sha256 in the
// same run (measured each iteration, so that the load of a shared machine
// cancels out in part), and alloc/blob, the bytes the process allocates per
// transfer (server and client: an upper bound of the server's) over the
// blob's size (near 0 where the Store keeps large blobs in memfds, whose
// pages are the kernel's); xsha256cpu, the CPU time of the hash over the CPU time of
// the process for the transfer (which the load of the machine changes
// less); and faults/op, the page faults of the process per
// transfer (fresh memory is slow to fault in on a virtual machine).
func BenchmarkServerBlob(b *testing.B) {
	for _, size := range []int{8 << 20, 64 << 20, 512 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) { benchServerBlob(b, size) })
	}
}

// benchServerBlob runs BenchmarkServerBlob for one size.
func benchServerBlob(b *testing.B, size int) {
	data := pattern(size)
	desc := descOf("sha256", data)
	srv := Serve(b)
	c, err := remote.New(srv.Host)
	if err != nil {
		b.Fatal(err)
	}
	push := func() error {
		if err := c.PutBlob(b.Context(), "bench", desc, bytes.NewReader(data)); err != nil {
			return err
		}
		return srv.Store.DeleteBlob(b.Context(), "bench", desc.Digest)
	}
	buf := make([]byte, 1<<20)
	pull := func() error {
		rc, _, err := c.GetBlob(b.Context(), "bench", desc.Digest)
		if err != nil {
			return err
		}
		defer rc.Close()
		// Read as a consumer would: in large reads into one buffer
		// (io.Discard would read 8 KiB at a time).
		n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{rc}, buf)
		if err == nil && n != int64(size) {
			err = fmt.Errorf("pulled %d bytes, want %d", n, size)
		}
		return err
	}
	for _, bc := range []struct {
		name string
		op   func() error
	}{{"push", push}, {"pull", pull}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.name == "pull" {
				if err := srv.Store.PutBlob(b.Context(), "bench", desc, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				defer srv.Store.DeleteBlob(b.Context(), "bench", desc.Digest)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			alloc := ms.TotalAlloc
			var ru0 syscall.Rusage
			syscall.Getrusage(0, &ru0)
			var opTime, hashTime, opCPU, hashCPU time.Duration
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				start, cpu := time.Now(), cpuTime()
				if err := bc.op(); err != nil {
					b.Fatal(err)
				}
				opTime += time.Since(start)
				opCPU += cpuTime() - cpu
				b.StopTimer()
				start, cpu = time.Now(), cpuTime()
				sha256.Sum256(data)
				hashTime += time.Since(start)
				hashCPU += cpuTime() - cpu
				b.StartTimer()
			}
			b.StopTimer()
			var ru1 syscall.Rusage
			syscall.Getrusage(0, &ru1)
			b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "faults/op")
			runtime.ReadMemStats(&ms)
			b.ReportMetric(hashTime.Seconds()/opTime.Seconds(), "xsha256")
			b.ReportMetric(hashCPU.Seconds()/opCPU.Seconds(), "xsha256cpu")
			b.ReportMetric(float64(ms.TotalAlloc-alloc)/float64(b.N)/float64(size), "alloc/blob")
		})
	}
}

// cpuTime returns the CPU time the process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
