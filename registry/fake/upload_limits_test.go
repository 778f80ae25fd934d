package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// limitedServer serves a store that expires sessions by clock, configured
// by opts, through server.Handler.
func limitedServer(t *testing.T, clock *fakeClock, opts ...Option) (*Store, string) {
	t.Helper()
	s := NewStore(append([]Option{func(s *Store) { s.now = clock.Now }}, opts...)...)
	srv := httptest.NewServer(server.NewHandler(s))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// startSession POSTs a new session and returns its URL.
func startSession(t *testing.T, base string) string {
	t.Helper()
	r := regtest.Send(t, http.MethodPost, base+"/v2/repo/blobs/uploads/", nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST = %d %s, want 202", r.Status, r.Body)
	}
	return base + r.Header.Get("Location")
}

// wantCode fails unless r has status and an OCI error body with code.
func wantCode(t *testing.T, what string, r regtest.Reply, status int, code transport.Code) {
	t.Helper()
	var body struct {
		Errors []struct{ Code transport.Code }
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || len(body.Errors) == 0 {
		t.Fatalf("%s = %d %q, want an OCI error body", what, r.Status, r.Body)
	}
	if r.Status != status || body.Errors[0].Code != code {
		t.Fatalf("%s = %d %s, want %d %s", what, r.Status, body.Errors[0].Code, status, code)
	}
}

func TestUploadExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, base := limitedServer(t, clock, WithUploadExpiry(time.Minute))
	idle := startSession(t, base)
	if r := regtest.Send(t, http.MethodPatch, idle, pattern(chunkSize)); r.Status != http.StatusAccepted {
		t.Fatalf("PATCH = %d %s", r.Status, r.Body)
	}
	busy := startSession(t, base)
	if r := regtest.Send(t, http.MethodPatch, busy, []byte("a")); r.Status != http.StatusAccepted {
		t.Fatalf("PATCH = %d %s", r.Status, r.Body)
	}
	if got, want := s.UploadBytes(), int64(chunkSize+1); got != want {
		t.Fatalf("UploadBytes() = %d, want %d", got, want)
	}

	// busy is active at 50s, so it expires at 1m50s; idle at 1m.
	clock.Advance(50 * time.Second)
	if r := regtest.Send(t, http.MethodPatch, busy, []byte("b")); r.Status != http.StatusAccepted {
		t.Fatalf("PATCH = %d %s", r.Status, r.Body)
	}
	clock.Advance(10 * time.Second)
	if n, b := s.Uploads(), s.UploadBytes(); n != 1 || b != 2 {
		t.Fatalf("after 1m: Uploads() = %d, UploadBytes() = %d; want 1 session of 2 bytes", n, b)
	}
	for _, method := range []string{http.MethodGet, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		wantCode(t, method+" of an expired session", regtest.Send(t, method, idle+"?digest="+digest.FromString("").String(), []byte("x")),
			http.StatusNotFound, transport.CodeBlobUploadUnknown)
	}

	clock.Advance(49 * time.Second) // busy: idle for 59s
	last := []byte("c")
	r := regtest.Send(t, http.MethodPut, busy+"?digest="+digest.FromString("abc").String(), last)
	if r.Status != http.StatusCreated {
		t.Fatalf("PUT of a session active 59s ago = %d %s, want 201", r.Status, r.Body)
	}
	if n, b := s.Uploads(), s.UploadBytes(); n != 0 || b != 0 {
		t.Fatalf("after commit: Uploads() = %d, UploadBytes() = %d; want none", n, b)
	}
}

func TestUploadExpiryStore(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewStore(func(s *Store) { s.now = clock.Now })
	ctx := t.Context()
	w, err := s.StartUpload(ctx, "repo")
	checkErr(t, "StartUpload", err, nil)
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(backend.DefaultUploadExpiry - time.Second)
	if s.Uploads() != 1 || s.UploadBytes() != 3 {
		t.Fatalf("before the default expiry: Uploads() = %d, UploadBytes() = %d; want 1, 3", s.Uploads(), s.UploadBytes())
	}
	clock.Advance(time.Second)
	if s.Uploads() != 0 || s.UploadBytes() != 0 {
		t.Fatalf("after the default expiry: Uploads() = %d, UploadBytes() = %d; want 0, 0", s.Uploads(), s.UploadBytes())
	}
	_, err = w.Write([]byte("d"))
	checkErr(t, "Write to an expired session", err, transport.ErrBlobUploadUnknown)
	_, err = s.ResumeUpload(ctx, "repo", w.ID())
	checkErr(t, "ResumeUpload of an expired session", err, transport.ErrBlobUploadUnknown)
	err = w.Commit(ctx, descOf(digest.SHA256, []byte("abc")))
	checkErr(t, "Commit of an expired session", err, transport.ErrBlobUploadUnknown)

	// Without expiry (negative), a session stays.
	s = NewStore(WithUploadExpiry(-1), func(s *Store) { s.now = clock.Now })
	if _, err := s.StartUpload(ctx, "repo"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(1000 * time.Hour)
	if s.Uploads() != 1 {
		t.Fatalf("WithUploadExpiry(-1): Uploads() = %d after 1000h, want 1", s.Uploads())
	}

	// Zero is the default: the session expires after an hour.
	s = NewStore(WithUploadExpiry(0), func(s *Store) { s.now = clock.Now })
	if _, err := s.StartUpload(ctx, "repo"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if s.Uploads() != 0 {
		t.Fatalf("WithUploadExpiry(0): Uploads() = %d after the default hour, want 0", s.Uploads())
	}
}

// TestUploadBoundsZeroAndNegative checks the module's convention on every
// upload bound of the fake: zero is the default, negative is no bound.
func TestUploadBoundsZeroAndNegative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opt        Option
		expiry     time.Duration
		maxUploads int
		maxBytes   int64
		maxPage    int
	}{
		{name: "defaults", opt: func(*Store) {}, expiry: time.Hour, maxUploads: 1000},
		{name: "expiry 0", opt: WithUploadExpiry(0), expiry: time.Hour, maxUploads: 1000},
		{name: "expiry -1", opt: WithUploadExpiry(-1), expiry: 0, maxUploads: 1000},
		{name: "expiry 1s", opt: WithUploadExpiry(time.Second), expiry: time.Second, maxUploads: 1000},
		{name: "uploads 0", opt: WithMaxUploads(0), expiry: time.Hour, maxUploads: 1000},
		{name: "uploads -1", opt: WithMaxUploads(-1), expiry: time.Hour, maxUploads: 0},
		{name: "uploads 1", opt: WithMaxUploads(1), expiry: time.Hour, maxUploads: 1},
		{name: "bytes 0", opt: WithMaxUploadBytes(0), expiry: time.Hour, maxUploads: 1000},
		{name: "bytes -1", opt: WithMaxUploadBytes(-1), expiry: time.Hour, maxUploads: 1000},
		{name: "bytes 1", opt: WithMaxUploadBytes(1), expiry: time.Hour, maxUploads: 1000, maxBytes: 1},
		{name: "page 0", opt: WithMaxPageSize(0), expiry: time.Hour, maxUploads: 1000},
		{name: "page -1", opt: WithMaxPageSize(-1), expiry: time.Hour, maxUploads: 1000},
	}
	for _, tc := range tests {
		s := NewStore(tc.opt)
		if s.uploadExpiry != tc.expiry || s.maxUploads != tc.maxUploads || s.maxUploadBytes != tc.maxBytes || s.maxPage != tc.maxPage {
			t.Errorf("%s: expiry %v, uploads %d, bytes %d, page %d; want %v, %d, %d, %d (0: no bound)", tc.name,
				s.uploadExpiry, s.maxUploads, s.maxUploadBytes, s.maxPage, tc.expiry, tc.maxUploads, tc.maxBytes, tc.maxPage)
		}
	}
}

func TestMaxUploads(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, base := limitedServer(t, clock, WithUploadExpiry(time.Minute), WithMaxUploads(2))
	first := startSession(t, base)
	clock.Advance(30 * time.Second)
	startSession(t, base)
	wantCode(t, "POST beyond the bound", regtest.Send(t, http.MethodPost, base+"/v2/repo/blobs/uploads/", nil),
		http.StatusTooManyRequests, transport.CodeTooManyRequests)
	// Uploads of a known digest open no session.
	if r := regtest.Send(t, http.MethodPost, base+"/v2/repo/blobs/uploads/?digest="+digest.FromString("x").String(), []byte("x")); r.Status != http.StatusCreated {
		t.Fatalf("single POST at the bound = %d %s, want 201", r.Status, r.Body)
	}

	if r := regtest.Send(t, http.MethodDelete, first, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	startSession(t, base) // room again
	wantCode(t, "POST beyond the bound again", regtest.Send(t, http.MethodPost, base+"/v2/repo/blobs/uploads/", nil),
		http.StatusTooManyRequests, transport.CodeTooManyRequests)

	clock.Advance(time.Minute) // both expire
	startSession(t, base)
	if s.Uploads() != 1 {
		t.Fatalf("Uploads() = %d, want 1", s.Uploads())
	}

	// The default bound.
	d := NewStore(func(s *Store) { s.now = clock.Now })
	for range backend.DefaultMaxUploads {
		if _, err := d.StartUpload(t.Context(), "repo"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := d.StartUpload(t.Context(), "repo")
	checkErr(t, "StartUpload beyond the default bound", err, transport.ErrTooManyRequests)
	clock.Advance(backend.DefaultUploadExpiry)
	if _, err := d.StartUpload(t.Context(), "repo"); err != nil {
		t.Fatalf("StartUpload once the others expired: %v", err)
	}
	if d.Uploads() != 1 {
		t.Fatalf("Uploads() = %d, want 1", d.Uploads())
	}
}

func TestMaxUploadBytes(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, base := limitedServer(t, clock, WithMaxUploadBytes(10))
	a, b := startSession(t, base), startSession(t, base)
	if r := regtest.Send(t, http.MethodPatch, a, []byte("012345")); r.Status != http.StatusAccepted {
		t.Fatalf("PATCH = %d %s", r.Status, r.Body)
	}
	wantCode(t, "PATCH beyond the byte bound", regtest.Send(t, http.MethodPatch, b, []byte("abcde"), "Content-Range", "0-4"),
		http.StatusTooManyRequests, transport.CodeTooManyRequests)
	// A chunk refused halfway is undone whole.
	wantCode(t, "PATCH beyond the byte bound by a streamed chunk", sendStreamed(t, http.MethodPatch, a, bytes.Repeat([]byte("x"), 64<<10)),
		http.StatusTooManyRequests, transport.CodeTooManyRequests)
	if got := s.UploadBytes(); got != 6 {
		t.Fatalf("UploadBytes() = %d, want 6", got)
	}
	if r := regtest.Send(t, http.MethodPut, a+"?digest="+digest.FromString("012345").String(), nil); r.Status != http.StatusCreated {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	if r := regtest.Send(t, http.MethodPut, b+"?digest="+digest.FromString("abcde").String(), []byte("abcde"), "Content-Range", "0-4"); r.Status != http.StatusCreated {
		t.Fatalf("PUT after the room was freed = %d %s", r.Status, r.Body)
	}
	if got := s.UploadBytes(); got != 0 {
		t.Fatalf("UploadBytes() = %d, want 0", got)
	}
}

// sendStreamed sends body with no Content-Length, in chunked encoding.
func sendStreamed(t *testing.T, method, url string, body []byte) regtest.Reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, struct{ *bytes.Reader }{bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil && !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Fatal(err)
	}
	return regtest.Reply{Status: resp.StatusCode, Header: resp.Header, Body: out.String()}
}

// TestUploadExpiryOutOfOrder checks that a session the sweep has not
// reached, behind a fresher one, is found expired when resumed.
func TestUploadExpiryOutOfOrder(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewStore(WithUploadExpiry(time.Minute), func(s *Store) { s.now = clock.Now })
	ctx := t.Context()
	a, err := s.StartUpload(ctx, "repo")
	checkErr(t, "StartUpload", err, nil)
	if _, err := s.StartUpload(ctx, "repo"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(50 * time.Second)
	if _, err := a.Write([]byte("x")); err != nil { // active, not resumed
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	if _, err := s.StartUpload(ctx, "repo"); err != nil { // c, at 55s
		t.Fatal(err)
	}
	clock.Advance(6 * time.Second) // 61s: b expires, a (50s) is put behind c (55s)
	if n := s.Uploads(); n != 2 {
		t.Fatalf("at 61s: Uploads() = %d, want 2", n)
	}
	clock.Advance(50 * time.Second) // 111s: a idle 61s, c 56s
	_, err = s.ResumeUpload(ctx, "repo", a.ID())
	checkErr(t, "ResumeUpload of a session idle for 61s", err, transport.ErrBlobUploadUnknown)
	if n, b := s.Uploads(), s.UploadBytes(); n != 1 || b != 0 {
		t.Fatalf("at 111s: Uploads() = %d, UploadBytes() = %d; want 1, 0", n, b)
	}
}

// TestUploadExpiryConcurrent races sessions being written, resumed,
// committed and cancelled against their expiry, and checks that the
// bytes held are accounted for exactly.
func TestUploadExpiryConcurrent(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewStore(WithUploadExpiry(time.Second), WithMaxUploads(50), func(s *Store) { s.now = clock.Now })
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				w, err := s.StartUpload(ctx, "repo")
				if err != nil {
					continue // the bound: fine
				}
				_, _ = w.Write(pattern(100 + i))
				clock.Advance(time.Duration(g) * 50 * time.Millisecond)
				if r, err := s.ResumeUpload(ctx, "repo", w.ID()); err == nil {
					_, _ = r.Write([]byte("x"))
				}
				switch i % 3 {
				case 0:
					_ = w.Cancel(ctx)
				case 1:
					_ = w.Commit(ctx, descOf(digest.SHA256, pattern(100+i)))
				}
			}
		}()
	}
	wg.Wait()
	clock.Advance(time.Second)
	if n, b := s.Uploads(), s.UploadBytes(); n != 0 || b != 0 {
		t.Fatalf("after everything expired: Uploads() = %d, UploadBytes() = %d; want 0, 0", n, b)
	}
}
