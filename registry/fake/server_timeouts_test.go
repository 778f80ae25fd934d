package fake

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/internal/slowclient"
)

// TestServerCutsSlowClients checks that the fake closes connections that
// make no progress, with timeouts of a few milliseconds: headers stalled
// or dripped, a request body stalled (answered 408, and its upload
// session then served) and an idle keep-alive connection. The wait is a
// guard against hanging, not a timing assertion.
func TestServerCutsSlowClients(t *testing.T) {
	t.Parallel()
	short := 50 * time.Millisecond
	srv := Serve(t, WithTimeouts(Timeouts{ReadHeader: short, Idle: short, Body: short, SessionWait: -1}))
	// Connections that outlive a request are closed within 50 ms: use
	// one per request.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(srv.URL+"/v2/demo/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	session := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || session == "" {
		t.Fatalf("POST of an upload = %d, Location %q; want 202 and a session", resp.StatusCode, session)
	}
	tests := []struct {
		name     string
		kind     slowclient.Kind
		drip     time.Duration
		wantSent string // a prefix of what the server sends before closing
	}{
		{name: "headers stalled", kind: slowclient.Header},
		{name: "headers dripped", kind: slowclient.Header, drip: 5 * time.Millisecond},
		{name: "body stalled", kind: slowclient.Body, wantSent: "HTTP/1.1 408"},
		{name: "idle keep-alive", kind: slowclient.Idle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sent := regtest.CutOff(t, srv.Host, tc.kind, session, tc.drip, 10*time.Second)
			if !strings.HasPrefix(sent, tc.wantSent) {
				t.Errorf("the server sent %q before closing, want it to start with %q", sent, tc.wantSent)
			}
		})
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+session, nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("GET of the session after a stalled PATCH = %d, want 204", resp.StatusCode)
	}
}

// TestServerCutsSlowBlobHostClients checks that the blob host of
// ProfileS3 has the server's timeouts too.
func TestServerCutsSlowBlobHostClients(t *testing.T) {
	t.Parallel()
	short := 50 * time.Millisecond
	srv := Serve(t, WithProfile(ProfileS3), WithTimeouts(Timeouts{ReadHeader: short, Idle: short}))
	host := srv.blobs.srv.Listener.Addr().String()
	for _, k := range []slowclient.Kind{slowclient.Header, slowclient.Idle} {
		regtest.CutOff(t, host, k, "", 0, 10*time.Second)
	}
}
