package fake

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/regkit/regkit/transport/remote"
)

// TestServerBlobMemory pins what a blob costs in memory over HTTP. Where
// large blobs are kept in files in memory (memfd, on Linux), a push holds
// the blob's bytes there exactly once and allocates next to nothing in the
// Go heap; elsewhere it allocates the blob once, in chunks sized from the
// request's Content-Length (no second copy, no growth by doubling, no
// intermediate buffers). A pull allocates next to nothing, whatever the
// blob's size. The allocations are the whole process's, client and
// server, so the test does not run in parallel.
func TestServerBlobMemory(t *testing.T) {
	const size = 64 << 20
	data := pattern(size)
	desc := descOf("sha256", data)
	srv := Serve(t)
	pushMax := uint64(size + size/100)
	f, err := openMemfd()
	inFiles := err == nil
	if inFiles {
		f.Close()
		pushMax = size / 8
	}
	c, err := remote.New(srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for _, tc := range []struct {
		name string
		op   func() error
		max  uint64 // bytes allocated
	}{
		{"push", func() error { return c.PutBlob(t.Context(), "mem", desc, bytes.NewReader(data)) }, pushMax},
		{"pull", func() error {
			rc, _, err := c.GetBlob(t.Context(), "mem", desc.Digest)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{rc}, buf)
			return err
		}, 1 << 20},
	} {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		if err := tc.op(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		runtime.ReadMemStats(&ms)
		got := ms.TotalAlloc - before
		t.Logf("%s of %d bytes: %d bytes allocated (%.4f of the blob)", tc.name, size, got, float64(got)/size)
		if got > tc.max {
			t.Errorf("%s of a blob of %d bytes allocated %d bytes, want at most %d", tc.name, size, got, tc.max)
		}
		if held := srv.Store.files.held.Load(); inFiles && held != size {
			t.Errorf("after the %s, the store's files hold %d bytes, want the blob's %d", tc.name, held, size)
		}
	}
}
