package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// guard bounds every wait of the timeout tests, so that a server that
// never cuts a client off fails the test instead of hanging it. It is
// no timing assertion: the tests configure limits of a few milliseconds.
const guard = 10 * time.Second

// rawConn sends head (a request line and headers, with the blank line) and
// then body on a new connection to srv, and returns the connection.
func rawConn(t *testing.T, srv *httptest.Server, head, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+body); err != nil {
		t.Fatal(err)
	}
	return c
}

// readClosed reads the response on c and then expects the server to
// close c. It returns the response's status, or 0 if there was none.
func readClosed(t *testing.T, c net.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	br := bufio.NewReader(c)
	status := 0
	if resp, err := http.ReadResponse(br, nil); err == nil {
		status = resp.StatusCode
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server neither answered nor closed the connection within %v", guard)
	}
	if _, err := br.ReadByte(); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server answered %d but kept the connection open", status)
	}
	return status
}

// TestServerBodyTimeout checks that a request whose body stops arriving
// fails with 408, its connection is closed, and an upload session it
// held serves the next request.
func TestServerBodyTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		path   string
		ctype  string
	}{
		{name: "chunk", method: "PATCH", path: "/v2/demo/blobs/uploads/{upload}", ctype: "application/octet-stream"},
		{name: "last chunk", method: "PUT", path: "/v2/demo/blobs/uploads/{upload}?digest={abcdefgh}", ctype: "application/octet-stream"},
		{name: "single post", method: "POST", path: "/v2/demo/blobs/uploads/?digest={new}", ctype: "application/octet-stream"},
		{name: "manifest", method: "PUT", path: "/v2/demo/manifests/v9", ctype: "application/vnd.oci.image.manifest.v1+json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := fake.NewStore()
			rep := replacer(seed(t, store))
			// Other requests wait for the session for as long as it is held.
			srv, _ := serve(t, store, false, server.WithBodyTimeout(50*time.Millisecond), server.WithSessionWait(-1))
			head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: registry\r\nContent-Type: %s\r\nContent-Length: 100\r\n\r\n",
				tc.method, rep.Replace(tc.path), tc.ctype)
			c := rawConn(t, srv, head, "fgh") // and then nothing
			if got := readClosed(t, c); got != http.StatusRequestTimeout {
				t.Errorf("%s %s with a stalled body = %d, want 408", tc.method, tc.path, got)
			}
			ctx, cancel := context.WithTimeout(t.Context(), guard)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+rep.Replace("/v2/demo/blobs/uploads/{upload}"), nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET of the session after the stalled request: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("GET of the session after the stalled request = %d, want 204", resp.StatusCode)
			}
		})
	}
}

// TestServerBodyTimeoutSparesProgress checks that the body timeout counts
// from the last byte, not from the start: an upload slower than the
// timeout as a whole, but never silent for that long, succeeds.
func TestServerBodyTimeoutSparesProgress(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	rep := replacer(seed(t, store))
	// A window of 1 s asks for 18 bytes (1 KiB a minute); 4 bytes each
	// 20 ms bring 200, so only a writer starved for over 0.9 s of a window
	// (a loaded -race run once starved one of 0.6 s) is cut.
	const timeout, gap, chunk, n = time.Second, 20 * time.Millisecond, 4, 150 // 3 timeouts in all
	srv, _ := serve(t, store, false, server.WithBodyTimeout(timeout))
	head := fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: registry\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		rep.Replace("/v2/demo/blobs/uploads/{upload}"), n*chunk)
	c := rawConn(t, srv, head, "")
	for range n {
		time.Sleep(gap)
		if _, err := c.Write([]byte(strings.Repeat("x", chunk))); err != nil {
			t.Fatalf("the server cut an upload making progress: %v", err)
		}
	}
	if got := readClosed(t, c); got != http.StatusAccepted {
		t.Errorf("PATCH of %d bytes, %d each %v, with a body timeout of %v = %d, want 202", n*chunk, chunk, gap, timeout, got)
	}
	r := doRequest(t, srv, "GET", rep.Replace("/v2/demo/blobs/uploads/{upload}"), nil, "")
	if got, want := r.Header.Get("Range"), fmt.Sprintf("0-%d", 5+n*chunk-1); got != want {
		t.Errorf("the session's Range after the slow PATCH = %q, want %q", got, want)
	}
}

// TestServerBodyMinimum checks that a request body must deliver its
// minimum in each window of the body timeout (35 bytes in 2 s: 1 KiB a
// minute, as WithBodyTimeout documents), not merely a byte now and
// then: a body that drips one byte a third of a window is cut with 408 and
// its upload session serves the next request, while a slow body that
// sends more than its minimum each window (two tenths of a window each
// deliver it, so a busy machine's pauses do not cut it), and a small body
// sent in one go, are served.
func TestServerBodyMinimum(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second // a minimum of 35 bytes a window
	tests := []struct {
		name   string
		chunk  int           // bytes sent each gap
		gap    time.Duration // between two chunks
		chunks int           // how many; the first is sent with the headers
		want   int
	}{
		{name: "one byte a third of a window", chunk: 1, gap: timeout / 3, chunks: 100, want: http.StatusRequestTimeout},
		{name: "slow but above the minimum", chunk: 20, gap: timeout / 10, chunks: 20, want: http.StatusAccepted},
		{name: "small body in one go", chunk: 10, chunks: 1, want: http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := fake.NewStore()
			rep := replacer(seed(t, store))
			// Other requests wait for the session for as long as it is held.
			srv, _ := serve(t, store, false, server.WithBodyTimeout(timeout), server.WithSessionWait(-1))
			session := rep.Replace("/v2/demo/blobs/uploads/{upload}")
			size := tc.chunk * tc.chunks
			head := fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: registry\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
				session, size)
			chunk := strings.Repeat("x", tc.chunk)
			c := rawConn(t, srv, head, chunk)
			go func() { // stops when the server closes c or the test ends
				for range tc.chunks - 1 {
					time.Sleep(tc.gap)
					if _, err := io.WriteString(c, chunk); err != nil {
						return
					}
				}
			}()
			if got := readClosed(t, c); got != tc.want {
				t.Errorf("PATCH of %d bytes, %d each %v, with a body timeout of %v = %d, want %d",
					size, tc.chunk, tc.gap, timeout, got, tc.want)
			}
			wantRange := "0-4" // the seeded session's 5 bytes
			if tc.want == http.StatusAccepted {
				wantRange = fmt.Sprintf("0-%d", 5+size-1)
			}
			ctx, cancel := context.WithTimeout(t.Context(), guard)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+session, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET of the session after the PATCH: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != wantRange {
				t.Errorf("GET of the session after the PATCH = %d, Range %q; want 204, %q",
					resp.StatusCode, resp.Header.Get("Range"), wantRange)
			}
		})
	}
}

// TestServerSessionWaitBounded checks that a request to a session that
// another request holds fails with 429 once it has waited long enough,
// and that the holder is unaffected.
func TestServerSessionWaitBounded(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	rep := replacer(seed(t, store))
	h := server.NewHandler(store, server.WithSessionWait(time.Millisecond))
	path := rep.Replace("/v2/demo/blobs/uploads/{upload}")
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("PATCH", path, pr))
		first <- rec.Code
	}()
	if _, err := pw.Write([]byte("fg")); err != nil { // the PATCH now holds the session
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(ctx))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" ||
		errorCode(t, rec.Body.Bytes()) != transport.CodeTooManyRequests {
		t.Errorf("GET of a busy session = %d, Retry-After %q, %s; want 429, 1, TOOMANYREQUESTS",
			rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	pw.Close()
	if code := <-first; code != http.StatusAccepted {
		t.Errorf("PATCH = %d, want 202", code)
	}
}

// TestNewServer checks that the server NewServer makes bounds the wait for
// headers and between requests, and bounds no whole request or response.
func TestNewServer(t *testing.T) {
	t.Parallel()
	h := server.NewHandler(fake.NewStore())
	srv := server.New(h)
	if srv.Handler != h || srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 || srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Errorf("NewServer(h) = handler %v, ReadHeaderTimeout %v, IdleTimeout %v, ReadTimeout %v, WriteTimeout %v; want h, >0, >0, 0, 0",
			srv.Handler, srv.ReadHeaderTimeout, srv.IdleTimeout, srv.ReadTimeout, srv.WriteTimeout)
	}
}
