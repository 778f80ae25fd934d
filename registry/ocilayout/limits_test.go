package ocilayout_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/regkit/regkit/transport"
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
// never finish them, through transport.Handler over a Store that allows
// 1,000 (the default): the first 1,000 are accepted and the rest refused
// with 429 and the OCI error TOOMANYREQUESTS, the server keeps answering,
// and it holds no file descriptor per session.
func TestHandlerUploadFlood(t *testing.T) {
	s := newStore(t)
	srv := httptest.NewServer(transport.NewHandler(s))
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
