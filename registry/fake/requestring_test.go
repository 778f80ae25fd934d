package fake

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/regkit/regkit/internal/regtest"
)

func TestRequestLogCapacity(t *testing.T) {
	t.Parallel()
	paths := func(rs []Request) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Path)
		}
		return out
	}
	tests := []struct {
		name string
		opts []ServerOption
		sent int
		want []string
	}{
		{name: "under the capacity", opts: []ServerOption{WithRequestLog(3)}, sent: 2, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list"}},
		{name: "at the capacity", opts: []ServerOption{WithRequestLog(3)}, sent: 3, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list", "/v2/r2/tags/list"}},
		{name: "beyond the capacity", opts: []ServerOption{WithRequestLog(3)}, sent: 7, want: []string{"/v2/r4/tags/list", "/v2/r5/tags/list", "/v2/r6/tags/list"}},
		{name: "capacity one", opts: []ServerOption{WithRequestLog(1)}, sent: 4, want: []string{"/v2/r3/tags/list"}},
		{name: "zero is the default", opts: []ServerOption{WithRequestLog(0)}, sent: 2, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list"}},
		{name: "negative is off", opts: []ServerOption{WithRequestLog(-1)}, sent: 4},
		{name: "default", sent: 2, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Serve(t, tc.opts...)
			for i := range tc.sent {
				regtest.Send(t, http.MethodGet, fmt.Sprintf("%s/v2/r%d/tags/list", srv.URL, i), nil)
			}
			if got := paths(srv.Requests()); !slices.Equal(got, tc.want) {
				t.Errorf("Requests() = %q, want %q", got, tc.want)
			}
			srv.ResetRequests()
			regtest.Send(t, http.MethodGet, srv.URL+"/v2/after/tags/list", nil)
			want := []string{"/v2/after/tags/list"}
			if tc.want == nil {
				want = nil
			}
			if got := paths(srv.Requests()); !slices.Equal(got, want) {
				t.Errorf("after ResetRequests: Requests() = %q, want %q", got, want)
			}
		})
	}
}

func TestRequestLogDefaultBound(t *testing.T) {
	t.Parallel()
	srv := Serve(t)
	if srv.log.size != defaultRequestLog {
		t.Fatalf("request log size %d, want %d", srv.log.size, defaultRequestLog)
	}
	l := requestLog{size: defaultRequestLog}
	for i := range 3 * defaultRequestLog {
		l.add(Request{Status: i})
	}
	got := l.all()
	if len(got) != defaultRequestLog || got[0].Status != 2*defaultRequestLog || got[len(got)-1].Status != 3*defaultRequestLog-1 {
		t.Fatalf("after %d requests the log holds %d, from %d to %d; want the last %d", 3*defaultRequestLog, len(got), got[0].Status, got[len(got)-1].Status, defaultRequestLog)
	}
}

// TestRequestLogLongRequests sends requests whose method and path are
// tens of KiB, which the HTTP server accepts (its header limit is
// 1 MiB): the log keeps them cut, and keeps nothing else of them alive.
// Before, 200 such requests held 177 MiB of heap, and a full default log
// would have held about 9 GiB.
func TestRequestLogLongRequests(t *testing.T) { // not parallel: it measures the heap
	srv := Serve(t)
	long := "/v2/" + strings.Repeat("a", 64<<10)
	tests := []struct {
		name, method, path   string
		wantMethod, wantPath string
	}{
		{name: "short", method: "GET", path: "/v2/app/tags/list", wantMethod: "GET", wantPath: "/v2/app/tags/list"},
		{name: "path at the limit", method: "GET", path: long[:maxLogPath], wantMethod: "GET", wantPath: long[:maxLogPath]},
		{name: "long path", method: "GET", path: long, wantMethod: "GET", wantPath: long[:maxLogPath-3] + "..."},
		{name: "long method", method: strings.Repeat("M", 32<<10), path: "/v2/", wantMethod: strings.Repeat("M", maxLogMethod-3) + "...", wantPath: "/v2/"},
	}
	for _, tc := range tests {
		srv.ResetRequests()
		rawRequest(t, srv.Host, tc.method, tc.path)
		waitLog(t, srv, 1)
		got := srv.Requests()[0]
		if got.Method != tc.wantMethod || got.Path != tc.wantPath {
			t.Errorf("%s: logged %.80q %.80q (%d, %d bytes), want %.80q %.80q (%d, %d bytes)", tc.name,
				got.Method, got.Path, len(got.Method), len(got.Path), tc.wantMethod, tc.wantPath, len(tc.wantMethod), len(tc.wantPath))
		}
	}

	const n = 32
	srv.ResetRequests()
	before := liveHeap()
	for range n {
		rawRequest(t, srv.Host, strings.Repeat("M", 32<<10), long)
	}
	waitLog(t, srv, n)
	grew := int64(liveHeap()) - int64(before)
	t.Logf("the log of %d requests of 96 KiB holds %d KiB of heap", n, grew>>10)
	if grew > 1<<20 {
		t.Errorf("the log of %d requests of 96 KiB holds %d KiB of heap, want < 1 MiB", n, grew>>10)
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// rawRequest sends a request line and headers as they are, which
// http.Client would not send for a method like "MMM…", and reads the
// answer.
func rawRequest(t *testing.T, host, method, path string) int {
	t.Helper()
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, path, host); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
