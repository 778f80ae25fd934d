package repository_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport/remote"
	"github.com/regkit/regkit/transport/server"
)

// breaker serves the fake registry, breaking the first upload request
// (PUT or PATCH to an upload session) of one blob as how says.
type breaker struct {
	next   http.Handler
	target digest.Digest
	how    string // "cut": reset after part of the body; "lost": store, lose the answer; "503"
	broken atomic.Bool

	mu  sync.Mutex
	log []string
}

func (b *breaker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.log = append(b.log, r.Method+" "+r.URL.RequestURI())
	b.mu.Unlock()
	upload := (r.Method == http.MethodPut || r.Method == http.MethodPatch) && strings.Contains(r.URL.Path, "/blobs/uploads/")
	if !upload || r.URL.Query().Get("digest") != b.target.String() || !b.broken.CompareAndSwap(false, true) {
		b.next.ServeHTTP(w, r)
		return
	}
	switch b.how {
	case "503":
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case "lost":
		b.next.ServeHTTP(httptest.NewRecorder(), r)
	case "cut":
		io.CopyN(io.Discard, r.Body, 512<<10)
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// count returns how many requests start with prefix and name the target.
func (b *breaker) count(prefix string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range b.log {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, b.target.Encoded()) {
			n++
		}
	}
	return n
}

// TestPushBlobRestarts checks that an upload that failed transiently
// starts again from the start, reopening the blob, with progress events
// that stay in order and count each byte once.
func TestPushBlobRestarts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		how      string
		policy   remote.RetryPolicy
		wantPuts int // upload PUTs of the broken blob
		wantErr  bool
	}{
		{name: "connection reset mid-body", how: "cut", wantPuts: 2},
		{name: "503", how: "503", wantPuts: 2},
		{name: "stored, answer lost", how: "lost", wantPuts: 1},
		{name: "retries off", how: "cut", policy: remote.RetryPolicy{MaxAttempts: 1}, wantPuts: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := bigImage(t, "retry "+tc.name, "amd64")
			big := img.Blobs()[len(img.Blobs())-1].Descriptor() // 3 MiB
			b := &breaker{next: server.NewHandler(fake.NewStore()), target: big.Digest, how: tc.how}
			srv := httptest.NewServer(b)
			t.Cleanup(srv.Close)
			policy := tc.policy
			policy.Backoff, policy.MaxBackoff = time.Millisecond, time.Millisecond
			c, err := remote.New(strings.TrimPrefix(srv.URL, "http://"), remote.WithRetry(policy))
			if err != nil {
				t.Fatal(err)
			}
			repo := repository.New(c, "app")
			var events progressLog
			_, err = repo.Push(progress.With(t.Context(), events.observe), img, "v1")
			if got := b.count("PUT /v2/app/blobs/uploads/"); got != tc.wantPuts {
				t.Errorf("%d upload PUTs of the broken blob, want %d", got, tc.wantPuts)
			}
			if tc.wantErr {
				if err == nil || !remote.IsRetryable(err) {
					t.Fatalf("Push = %v, want a retryable error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Push = %v", err)
			}
			got := events.blobs()
			for _, blob := range img.Blobs() {
				checkStreamed(t, got[blob.Descriptor().Digest], blob.Descriptor(), false)
			}
			if _, err := c.StatBlob(t.Context(), "app", big.Digest); err != nil {
				t.Errorf("StatBlob(%s) = %v", big.Digest, err)
			}
		})
	}
}

// TestPushBlobRestartReopens fails when the blob cannot be opened again.
func TestPushBlobRestartReopens(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("z", 2<<20)
	d := digest.FromString(data)
	b := &breaker{next: server.NewHandler(fake.NewStore()), target: d, how: "cut"}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	c, err := remote.New(strings.TrimPrefix(srv.URL, "http://"),
		remote.WithRetry(remote.RetryPolicy{Backoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	gone := errors.New("the source is gone")
	var opens atomic.Int32
	blob := image.NewBlob(image.BytesBlob("application/octet-stream", []byte(data)).Descriptor(),
		func(ctx context.Context) (io.ReadCloser, error) {
			if opens.Add(1) > 1 {
				return nil, gone
			}
			return io.NopCloser(strings.NewReader(data)), nil
		})
	err = repository.New(c, "app").PushBlob(t.Context(), blob)
	if !errors.Is(err, gone) || opens.Load() != 2 {
		t.Errorf("PushBlob = %v after %d opens, want %v after 2", err, opens.Load(), gone)
	}
}
