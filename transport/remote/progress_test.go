package remote

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// A response body that delivers less than its minimum over a window of
// waiting fails the read with a stall (a timeout), instead of holding the
// caller forever: a registry dripping one byte at a time, or none at all
// after its headers, no longer hangs a GetBlob whose context has no
// deadline. A caller that reads slowly is no stall.
func TestClientResponseBodyStall(t *testing.T) {
	const window = 100 * time.Millisecond
	cases := []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request)
		pause time.Duration // between the caller's reads
		stall bool
	}{
		{"one byte every 20ms", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "200")
			for range 200 {
				if _, err := w.Write([]byte{'x'}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(20 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
		}, 0, true},
		{"nothing after the headers", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "200")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, 0, true},
		{"fast body, slow caller", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "8192")
			_, _ = io.WriteString(w, strings.Repeat("x", 8192))
		}, 3 * window, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tc.serve))
			defer srv.Close()
			c, err := New(strings.TrimPrefix(srv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			c.bodyWindow = window
			// The deadline only ends the test on code without the stall.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rc, _, err := c.GetBlob(ctx, "x", digest.FromString("x"))
			if err != nil {
				t.Fatalf("GetBlob: %v", err)
			}
			defer rc.Close()
			var n int
			buf := make([]byte, 1024)
			for {
				time.Sleep(tc.pause)
				m, err := rc.Read(buf)
				n += m
				if err == io.EOF {
					err = nil
					if tc.stall {
						t.Fatalf("read %d bytes to the end, want a stall", n)
					}
					return
				}
				if err != nil {
					var se *stallError
					if !tc.stall || !errors.As(err, &se) || !isTransient(err) {
						t.Fatalf("after %d bytes: %v (stall wanted: %v)", n, err, tc.stall)
					}
					return
				}
			}
		})
	}
}

// tickReader gives one byte per Read after a short pause, n times, and
// records the longest time one of its Reads took: on a loaded machine a
// goroutine can wait for a CPU longer than a short window.
type tickReader struct {
	n       int
	pause   time.Duration
	longest time.Duration
}

func (r *tickReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	start := time.Now()
	time.Sleep(r.pause)
	r.n--
	p[0] = 'x'
	r.longest = max(r.longest, time.Since(start))
	return 1, nil
}

func (r *tickReader) Close() error { return nil }

// TestProgressBodyWindowBoundary reads bodies that always make progress,
// read back to back across many window boundaries: none may be taken for
// a stall. A timer firing as one Read returns, after the next has re-armed
// it, once failed a few bodies in a hundred. A stall is excused only when
// the reader itself took most of a window for one Read (the scheduler
// starved it, as happens under -race on a busy CI machine): that is a
// stall by the rule, not a stale timer.
func TestProgressBodyWindowBoundary(t *testing.T) {
	t.Parallel()
	const (
		bodies = 40
		window = 40 * time.Millisecond // a pause of 20 ms between Read returning and its accounting once cut a body at 10 ms
	)
	type result struct {
		err     error
		longest time.Duration
	}
	results := make(chan result, bodies)
	for range bodies {
		go func() {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			r := &tickReader{n: 4000, pause: 20 * time.Microsecond}
			b := newProgressBody(r, cancel, window, 1)
			_, err := io.Copy(io.Discard, b)
			if err == nil {
				err = context.Cause(ctx)
			}
			results <- result{err, r.longest}
		}()
	}
	stalls, starved := 0, 0
	for range bodies {
		res := <-results
		switch {
		case res.err == nil:
		case res.longest >= window/2:
			starved++
			t.Logf("excused, one Read took %v: %v", res.longest, res.err)
		default:
			stalls++
			t.Log(res.err)
		}
	}
	if starved > bodies/2 {
		t.Skipf("the machine starved %d of %d readers for half a window: too loaded to tell", starved, bodies)
	}
	if stalls > 0 {
		t.Errorf("%d of %d bodies that never stopped were taken for stalls", stalls, bodies)
	}
}
