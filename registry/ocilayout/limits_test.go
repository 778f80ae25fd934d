package ocilayout_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// openFDs returns how many file descriptors the process has open. It skips
// the test where /proc/self/fd does not exist.
func openFDs(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd, which only Linux has")
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// TestUploadSessionsHoldNoFD opens many upload sessions, each with a byte
// written, and checks that none of them keeps a file open: the process has
// as many file descriptors after as before. Not parallel: other tests'
// files would be counted.
func TestUploadSessionsHoldNoFD(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	before := openFDs(t)
	const n = 300
	for i := range n {
		w, err := s.StartUpload(ctx, "app")
		if err != nil {
			t.Fatalf("StartUpload #%d = %v", i, err)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatalf("Write #%d = %v", i, err)
		}
		if w, err = s.ResumeUpload(ctx, "app", w.ID()); err != nil {
			t.Fatalf("ResumeUpload #%d = %v", i, err)
		}
		if got := w.Size(); got != 1 {
			t.Fatalf("Size #%d = %d, want 1", i, got)
		}
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d open upload sessions: %d file descriptors open, %d before; want no change", n, after, before)
	}
}

// TestHandlerUploadFlood sends 1,100 POSTs that open upload sessions and
// never finish them, through server.Handler over a Store that allows
// 1,000 (the default): the first 1,000 are accepted and the rest refused
// with 429 and the OCI error TOOMANYREQUESTS, the server keeps answering,
// and it holds no file descriptor per session.
func TestHandlerUploadFlood(t *testing.T) {
	s := newStore(t)
	srv := httptest.NewServer(server.NewHandler(s))
	defer srv.Close()
	post := func() (int, string) {
		t.Helper()
		resp, err := srv.Client().Post(srv.URL+"/v2/app/blobs/uploads/", "", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Errors []transport.Error }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if len(body.Errors) == 1 {
			return resp.StatusCode, string(body.Errors[0].Code)
		}
		return resp.StatusCode, ""
	}
	post() // the connection, the poller: files that stay whatever the sessions
	before := openFDs(t)
	const n = 1100
	statuses := map[int]int{}
	for i := range n {
		status, code := post()
		statuses[status]++
		if status == http.StatusTooManyRequests && code != string(transport.CodeTooManyRequests) {
			t.Fatalf("POST #%d = %d with error code %q, want TOOMANYREQUESTS", i, status, code)
		}
	}
	after := openFDs(t)
	t.Logf("file descriptors: %d before %d POSTs, %d after; statuses %v", before, n, after, statuses)
	if want := map[int]int{http.StatusAccepted: 999, http.StatusTooManyRequests: 101}; !maps.Equal(statuses, want) {
		t.Errorf("statuses of %d POSTs = %v, want %v", n, statuses, want)
	}
	if after > before+4 { // a connection may be replaced meanwhile
		t.Errorf("%d abandoned uploads: %d file descriptors open, %d before", n, after, before)
	}
	resp, err := srv.Client().Get(srv.URL + "/v2/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ after the flood = %v, %v", resp, err)
	}
	resp.Body.Close()
}

// clock is a settable time for the Store, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestUploadExpiry checks that a session idle for longer than the expiry is
// removed, file and all, when another starts, while one in use stays.
func TestUploadExpiry(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := ocilayout.NewStore(t.TempDir(), ocilayout.WithUploadExpiry(time.Minute), ocilayout.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	start := func() transport.BlobWriter {
		t.Helper()
		w, err := s.StartUpload(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("some bytes")); err != nil {
			t.Fatal(err)
		}
		return w
	}
	idle, busy := start(), start()
	clk.Add(40 * time.Second)
	if _, err := busy.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	clk.Add(40 * time.Second) // idle: 80 s unused; busy: 40 s
	start()
	if _, err := s.ResumeUpload(ctx, "app", idle.ID()); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("ResumeUpload(expired session) = %v, want ErrBlobUploadUnknown", err)
	}
	if _, err := idle.Write([]byte("x")); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("Write(expired session) = %v, want ErrBlobUploadUnknown", err)
	}
	if _, err := s.ResumeUpload(ctx, "app", busy.ID()); err != nil {
		t.Errorf("ResumeUpload(session in use) = %v", err)
	}
	left := tempFiles(t, s.Dir())
	if len(left) != 3 || slices.ContainsFunc(left, func(p string) bool { return strings.HasSuffix(p, idle.ID()) }) {
		t.Errorf("temporary files = %q, want the directory and the two live sessions", left)
	}
	clk.Add(2 * time.Minute)
	if _, err := s.ResumeUpload(ctx, "app", busy.ID()); err == nil {
		t.Errorf("ResumeUpload after every session expired succeeded")
	}
	if left := tempFiles(t, s.Dir()); len(left) != 0 {
		t.Errorf("temporary files after every session expired: %q", left)
	}
}

// TestMaxUploads checks the bound on open sessions: past it StartUpload
// fails with TOOMANYREQUESTS, and a session that ends makes room.
func TestMaxUploads(t *testing.T) {
	t.Parallel()
	s, err := ocilayout.NewStore(t.TempDir(), ocilayout.WithMaxUploads(3))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	var ws []transport.BlobWriter
	for range 3 {
		w, err := s.StartUpload(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	_, err = s.StartUpload(ctx, "other")
	if !errors.Is(err, transport.ErrTooManyRequests) {
		t.Fatalf("StartUpload past the bound = %v, want ErrTooManyRequests", err)
	}
	if left := tempFiles(t, s.Dir()); len(left) != 4 {
		t.Errorf("temporary files = %q, want the directory and three sessions", left)
	}
	if err := ws[0].Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartUpload(ctx, "app"); err != nil {
		t.Errorf("StartUpload after a Cancel = %v", err)
	}
}

// TestMaxUploadsExpired checks that sessions past their expiry make room
// for new ones at the bound.
func TestMaxUploadsExpired(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := ocilayout.NewStore(t.TempDir(), ocilayout.WithMaxUploads(2),
		ocilayout.WithUploadExpiry(time.Hour), ocilayout.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for i := range 3 {
		if _, err := s.StartUpload(ctx, "app"); (err == nil) != (i < 2) {
			t.Fatalf("StartUpload #%d = %v", i, err)
		}
		clk.Add(time.Minute)
	}
	clk.Add(time.Hour)
	for i := range 2 {
		if _, err := s.StartUpload(ctx, "app"); err != nil {
			t.Fatalf("StartUpload #%d once the others expired = %v", i, err)
		}
	}
	if left := tempFiles(t, s.Dir()); len(left) != 3 {
		t.Errorf("temporary files = %q, want the directory and the two new sessions", left)
	}
}

// TestOptionsZero checks that zero is the default, as everywhere in the
// module: sessions expire after an hour, and at most 1000 are open.
func TestOptionsZero(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := ocilayout.NewStore(t.TempDir(), ocilayout.WithUploadExpiry(0), ocilayout.WithMaxUploads(0), ocilayout.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.StartUpload(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 999 {
		if _, err := s.StartUpload(t.Context(), "app"); err != nil {
			t.Fatalf("StartUpload %d under the default maximum = %v", i+2, err)
		}
	}
	if _, err := s.StartUpload(t.Context(), "app"); !errors.Is(err, transport.ErrTooManyRequests) {
		t.Errorf("StartUpload 1001 with the default maximum = %v, want ErrTooManyRequests", err)
	}
	clk.Add(time.Hour + time.Minute)
	if _, err := s.ResumeUpload(t.Context(), "app", first.ID()); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("ResumeUpload of a session idle past the default expiry = %v, want ErrBlobUploadUnknown", err)
	}
}

// TestOptionsNegative checks that a negative bound is off, as in the fake:
// no expiry keeps an idle session for days, no maximum lets sessions past
// the default of 1000 open.
func TestOptionsNegative(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := ocilayout.NewStore(t.TempDir(), ocilayout.WithUploadExpiry(-1), ocilayout.WithMaxUploads(-1), ocilayout.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.StartUpload(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(72 * time.Hour)
	for i := range 1000 {
		if _, err := s.StartUpload(t.Context(), "app"); err != nil {
			t.Fatalf("StartUpload %d with no maximum = %v", i+2, err)
		}
	}
	if _, err := s.ResumeUpload(t.Context(), "app", first.ID()); err != nil {
		t.Errorf("ResumeUpload of a session idle for 72h with no expiry = %v", err)
	}
}
