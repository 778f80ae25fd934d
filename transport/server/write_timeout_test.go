package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/server"
)

// bigBlobs is a Transport whose every blob is size zero bytes, and which
// counts the blob readers open, as a backend on disk holds a file open for
// each (registry/ocilayout does).
type bigBlobs struct {
	*fake.Store
	size         int64
	open, opened atomic.Int64
}

func (s *bigBlobs) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	s.open.Add(1)
	s.opened.Add(1)
	return &countedReader{r: io.LimitReader(zeros{}, s.size), open: &s.open}, ocispec.Descriptor{Digest: d, Size: s.size}, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countedReader struct {
	r    io.Reader
	open *atomic.Int64
	done atomic.Bool
}

func (r *countedReader) Read(p []byte) (int, error) { return r.r.Read(p) }

func (r *countedReader) Close() error {
	if r.done.CompareAndSwap(false, true) {
		r.open.Add(-1)
	}
	return nil
}

// TestServerSlowReaders sends blob GETs whose client never reads the
// response. Each held its request, its connection and its blob reader
// forever: over registry/ocilayout, 100 such GETs held 100 blob files and
// 100 connections open (and a few hundred more ran the server out of file
// descriptors). With a body timeout, the Handler cuts each one once the
// client takes nothing for that long.
func TestServerSlowReaders(t *testing.T) {
	t.Parallel()
	const n = 20
	store := &bigBlobs{Store: fake.NewStore(), size: 64 << 20}
	srv, _ := serve(t, store, true, server.WithBodyTimeout(50*time.Millisecond))
	d := digest.FromString("big")
	for range n {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		if _, err := fmt.Fprintf(c, "GET /v2/demo/blobs/%s HTTP/1.1\r\nHost: registry\r\n\r\n", d); err != nil {
			t.Fatal(err)
		}
	}
	// No timing assertion: the wait ends as soon as every reader closed.
	deadline := time.Now().Add(guard)
	for store.opened.Load() < n || store.open.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d blob readers still open after %v with clients that stopped reading", store.open.Load(), store.opened.Load(), guard)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServerWriteDeadlineCleared checks that the write deadline of one
// response does not outlive it: a keep-alive connection that downloaded a
// blob and then idled for longer than the body timeout is still served,
// answers without a body (whose headers the server sends after the
// Handler returns) included.
//
// The body timeout is long enough that a loaded machine does not stall a
// 1 MiB response past it (20 ms did, once, under -race at a load of 8).
func TestServerWriteDeadlineCleared(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	store := &bigBlobs{Store: fake.NewStore(), size: 1 << 20}
	srv, _ := serve(t, store, false, server.WithBodyTimeout(timeout))
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	br := bufio.NewReader(c)
	blob := "/v2/demo/blobs/" + digest.FromString("big").String()
	requests := []struct {
		method, path string
		want         int
	}{
		{"GET", blob, http.StatusOK},
		{"POST", "/v2/demo/blobs/uploads/", http.StatusAccepted}, // no body
		{"GET", "/v2/", http.StatusOK},
		{"GET", blob, http.StatusOK},
	}
	for i, req := range requests {
		if i > 0 {
			time.Sleep(3 * timeout) // longer than the deadline the last response set
		}
		if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: registry\r\nContent-Length: 0\r\n\r\n", req.method, req.path); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d (%s %s) on the kept-alive connection: %v", i+1, req.method, req.path, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != req.want || err != nil || n != resp.ContentLength {
			t.Fatalf("request %d (%s %s) = %d, %d of %d bytes, %v; want %d and all bytes", i+1, req.method, req.path, resp.StatusCode, n, resp.ContentLength, err, req.want)
		}
	}
}

// TestServerKeepsWriteTimeout checks that the Handler's write deadlines
// never reach past the server's own WriteTimeout: a response longer than
// it allows is cut, with the Handler's body timeout at its default of a
// minute, as it is without the Handler's deadlines.
func TestServerKeepsWriteTimeout(t *testing.T) {
	t.Parallel()
	const size = 16 << 30 // far more than 100 ms of loopback
	store := &bigBlobs{Store: fake.NewStore(), size: size}
	srv := httptest.NewUnstartedServer(server.NewHandler(store))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v2/demo/blobs/"+digest.FromString("big").String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n >= size {
		t.Errorf("read all %d bytes of the blob past the server's WriteTimeout of 100ms", n)
	}
	if ctx.Err() != nil {
		t.Errorf("the response was not cut by the server's WriteTimeout within %v", guard)
	}
}
