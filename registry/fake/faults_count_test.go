package fake

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/route"
)

// statuses returns the statuses of n GETs of url.
func statuses(t *testing.T, url string, n int) []int {
	t.Helper()
	var got []int
	for range n {
		got = append(got, do1(t, http.MethodGet, url, nil).status)
	}
	return got
}

// TestFaultsCounting checks Times and Every, alone and together, and that
// a fault that does not fire leaves the request alone.
func TestFaultsCounting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []Fault
		want   []int
	}{
		{name: "every request", faults: []Fault{FailWith(503)}, want: []int{503, 503, 503, 503}},
		{name: "times 2", faults: []Fault{FailWith(503).Times(2)}, want: []int{503, 503, 200, 200}},
		{name: "every 2", faults: []Fault{FailWith(503).Every(2)}, want: []int{200, 503, 200, 503}},
		{name: "every 2, once", faults: []Fault{FailWith(503).Every(2).Times(1)}, want: []int{200, 503, 200, 200}},
		{name: "limits lifted", faults: []Fault{FailWith(503).Every(2).Times(1).Every(0).Times(0)}, want: []int{503, 503, 503, 503}},
		{name: "first status wins", faults: []Fault{FailWith(429).Times(1), FailWith(500).Times(2)}, want: []int{429, 500, 200, 200}},
		{name: "counted per fault", faults: []Fault{FailWith(502).Every(3), FailWith(503).Every(2)}, want: []int{200, 503, 502, 503, 200, 502}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, url := faultServer(t, WithFaults(tc.faults...))
			if got := statuses(t, url, len(tc.want)); !slices.Equal(got, tc.want) {
				t.Errorf("statuses = %v, want %v", got, tc.want)
			}
		})
	}
}

// settleGoroutines waits up to 5 seconds for the number of goroutines to
// fall to want, and returns the last count.
func settleGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// TestFaultsCombined checks that every fault that fires applies: a delay,
// then a status.
func TestFaultsCombined(t *testing.T) {
	t.Parallel()
	srv, url := faultServer(t, WithFaults(Delay(50*time.Millisecond), FailWith(503).On("GET", RouteBlob)))
	got := do1(t, http.MethodGet, url, nil)
	if got.status != 503 || got.took < 50*time.Millisecond {
		t.Errorf("GET = %d after %v, want 503 after 50ms", got.status, got.took)
	}
	if e := lastRequest(t, srv); e.Fault != "delay 50ms; status 503 on GET blob" || e.Route != RouteBlob {
		t.Errorf("logged fault %q, route %q; want both faults, blob", e.Fault, e.Route)
	}
}

// TestSetFaults changes the faults of a running server, and checks that
// it restarts their counts.
func TestSetFaults(t *testing.T) {
	t.Parallel()
	srv, url := faultServer(t)
	once := FailWith(503).Times(1)
	steps := []struct {
		faults []Fault
		want   []int
	}{
		{nil, []int{200}},
		{[]Fault{once}, []int{503, 200}},
		{[]Fault{once}, []int{503, 200}}, // counts restart
		{[]Fault{}, []int{200, 200}},
	}
	for i, s := range steps {
		if i > 0 {
			srv.SetFaults(s.faults...)
		}
		if got := statuses(t, url, len(s.want)); !slices.Equal(got, s.want) {
			t.Errorf("step %d: statuses = %v, want %v", i, got, s.want)
		}
	}
}

// TestSetFaultsConcurrently changes faults while requests are served, for
// the race detector.
func TestSetFaultsConcurrently(t *testing.T) {
	t.Parallel()
	srv, url := faultServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	done := make(chan []int)
	for range 4 {
		go func() {
			var got []int
			for ctx.Err() == nil {
				if r, err := do(t, http.MethodGet, url, nil); err == nil {
					got = append(got, r.status)
				}
			}
			done <- got
		}()
	}
	for ctx.Err() == nil {
		srv.SetFaults(FailWith(503).Every(2))
		srv.SetFaults()
	}
	for range 4 {
		for _, s := range <-done {
			if s != 200 && s != 503 {
				t.Errorf("status %d, want 200 or 503", s)
			}
		}
	}
}

// TestFaultsDoNotLeak runs every fault kind, with a client that gives up
// during a delay and another during a throttled body, and checks that
// every goroutine ends once the server is closed. It is not parallel, so
// that it counts its own goroutines only.
func TestFaultsDoNotLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, url := faultServer(t)
	for _, f := range []Fault{FailWith(503), DropAfter(10), Truncate(10), FlipByte(1), Throttle(100_000), Delay(time.Millisecond)} {
		srv.SetFaults(f)
		_, _ = do(t, http.MethodGet, url, nil)
	}
	for _, f := range []Fault{Delay(time.Hour), Throttle(10)} {
		srv.SetFaults(f)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		tr := &http.Transport{}
		if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		tr.CloseIdleConnections()
	}
	waitLog(t, srv, 8) // the abandoned requests end too
	for _, r := range srv.Requests() {
		if r.Fault == "delay 1h0m0s" && r.Status != 0 {
			t.Errorf("request abandoned during a delay logged with status %d, want 0", r.Status)
		}
	}
	srv.Close()
	if n := settleGoroutines(before); n > before {
		t.Errorf("%d goroutines after the server closed, %d before", n, before)
	}
}

// TestFaultsConstructorsPanic checks that invalid faults are refused where
// they are made.
func TestFaultsConstructorsPanic(t *testing.T) {
	t.Parallel()
	srv := Serve(t)
	tests := []struct {
		name string
		f    func()
	}{
		{"FailWith 200", func() { FailWith(200) }},
		{"FailWith 600", func() { FailWith(600) }},
		{"negative Delay", func() { Delay(-1) }},
		{"negative DropAfter", func() { DropAfter(-1) }},
		{"negative Truncate", func() { Truncate(-1) }},
		{"negative FlipByte", func() { FlipByte(-1) }},
		{"zero Throttle", func() { Throttle(0) }},
		{"negative Times", func() { FailWith(500).Times(-1) }},
		{"negative Every", func() { FailWith(500).Every(-1) }},
		{"RetryAfter on a delay", func() { Delay(time.Second).RetryAfter(time.Second) }},
		{"negative RetryAfter", func() { FailWith(503).RetryAfter(-time.Second) }},
		{"SetFaults zero", func() { srv.SetFaults(FailWith(500), Fault{}) }},
		{"WithFaults zero", func() { NewServer(WithFaults(Fault{})).Close() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tc.name)
				}
			}()
			tc.f()
		})
	}
}

func TestFaultString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    Fault
		want string
	}{
		{FailWith(503).On("get", RouteBlob).Times(2), "status 503 on GET blob, 2 times"},
		{FailWith(429).RetryAfter(time.Second).Times(1), "status 429 (Retry-After 1), once"},
		{Delay(time.Second).On("", RouteManifest).In("a/b"), `delay 1s on manifest in "a/b"`},
		{DropAfter(5).On("PATCH", ""), "drop after 5 bytes on PATCH"},
		{Truncate(7).Every(3), "truncate after 7 bytes, every 3 requests"},
		{FlipByte(0), "flip byte 0"},
		{Throttle(10), "throttle 10 B/s"},
		{Fault{}, "no fault"},
	}
	for _, tc := range tests {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestRouteOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path  string
		route Route
		name  string
	}{
		{"/v2/", RoutePing, ""},
		{"/v2", RoutePing, ""},
		{"/token", RouteToken, ""},
		{"/v2/_catalog", RouteCatalog, ""},
		{"/v2/a/b/manifests/latest", RouteManifest, "a/b"},
		{"/v2/a/blobs/sha256:abc", RouteBlob, "a"},
		{"/v2/a/blobs/uploads/", RouteUpload, "a"},
		{"/v2/a/blobs/uploads", RouteUpload, "a"},
		{"/v2/a/blobs/uploads/123", RouteUpload, "a"},
		{"/v2/a/tags/list", RouteTags, "a"},
		{"/v2/a/referrers/sha256:abc", RouteReferrers, "a"},
		{"/v2/a%zz/tags/list", "", ""},
		{"/v2/A/tags/list", "", ""},
		{"/v2/a/%6Danifests/latest", RouteManifest, "a"},
		{"/v2/%61/b/manifests/latest", RouteManifest, "a/b"},
		{"/v2/%5Fcatalog", RouteCatalog, ""},
		{"/%74oken", "", ""},
		{"/token/", RouteToken, ""},
		{"/v2/a/other/thing", "", ""},
		{"/v2/a", "", ""},
		{"/other", "", ""},
	}
	for _, tc := range tests {
		api, err := route.Parse(tc.path)
		if tg := targetOf(tc.path, api, err); tg.rt != tc.route || tg.repo != tc.name {
			rt, name := tg.rt, tg.repo
			t.Errorf("targetOf(%q) = %q, %q; want %q, %q", tc.path, rt, name, tc.route, tc.name)
		}
	}
}

func TestFaultCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		route  Route
		want   string
	}{
		{400, RouteManifest, "MANIFEST_INVALID"},
		{400, RouteUpload, "BLOB_UPLOAD_INVALID"},
		{400, RouteTags, "UNKNOWN"},
		{401, RouteBlob, "UNAUTHORIZED"},
		{403, RouteBlob, "DENIED"},
		{404, RouteBlobHost, "BLOB_UNKNOWN"},
		{404, RouteUpload, "BLOB_UPLOAD_UNKNOWN"},
		{404, RouteManifest, "MANIFEST_UNKNOWN"},
		{404, RouteTags, "NAME_UNKNOWN"},
		{405, RouteBlob, "UNSUPPORTED"},
		{412, RouteManifest, "PRECONDITION_FAILED"},
		{429, RouteBlob, "TOOMANYREQUESTS"},
		{503, RouteBlob, "UNAVAILABLE"},
		{500, RouteBlob, "UNKNOWN"},
	}
	for _, tc := range tests {
		if got := faultCode(tc.status, tc.route); string(got) != tc.want {
			t.Errorf("faultCode(%d, %q) = %q, want %q", tc.status, tc.route, got, tc.want)
		}
	}
}

// TestFaultsLogged checks that the server's logger names the fault of a
// request it answered itself.
func TestFaultsLogged(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	_, url := faultServer(t, WithLogger(slog.New(slog.NewTextHandler(&buf, nil))), WithFaults(FailWith(503).Times(1)))
	do1(t, http.MethodGet, url, nil)
	if got := buf.String(); !strings.Contains(got, `fault="status 503, once"`) || !strings.Contains(got, "status=503") {
		t.Errorf("log = %q, want the status and the fault", got)
	}
}

// TestBodyFaultsNeedABody checks that body faults skip requests without a
// body to act on, so that Times counts only those they can change.
func TestBodyFaultsNeedABody(t *testing.T) {
	t.Parallel()
	srv, url := faultServer(t, WithFaults(Truncate(5).Times(1)))
	do1(t, http.MethodHead, url, nil)
	do1(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/", nil)
	got := do1(t, http.MethodGet, url, nil)
	if !errors.Is(got.readErr, io.ErrUnexpectedEOF) || len(got.body) != 5 {
		t.Errorf("GET after a HEAD and a POST = %d bytes, %v; want 5 bytes, unexpected EOF", len(got.body), got.readErr)
	}
	var faults []string
	for _, r := range srv.Requests() {
		faults = append(faults, r.Method+" "+r.Fault)
	}
	if want := []string{"HEAD ", "POST ", "GET truncate after 5 bytes, once"}; !slices.Equal(faults, want) {
		t.Errorf("logged faults %q, want %q", faults, want)
	}
}
