package regtest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/slowclient"
)

// CutOff opens a connection of kind k to addr (path as for [Open]), sends
// one more byte each drip if drip > 0, and fails t unless the server
// closes the connection within wait. It returns what the server sent
// before closing.
func CutOff(t testing.TB, addr string, k slowclient.Kind, path string, drip, wait time.Duration) string {
	t.Helper()
	sc, err := slowclient.Open(addr, k, path)
	if err != nil {
		t.Fatalf("open a %v connection: %v", k, err)
	}
	defer sc.Close()
	stop := make(chan struct{})
	dripped := make(chan struct{})
	go func() {
		defer close(dripped)
		if drip <= 0 {
			return
		}
		tick := time.NewTicker(drip)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if sc.Drip() != nil {
					return
				}
			}
		}
	}()
	closed, sent := sc.Closed(wait)
	close(stop)
	<-dripped
	if !closed {
		t.Errorf("a %v connection (drip %v) is still open after %v", k, drip, wait)
	}
	return sent
}

// CheckCutsSlowClients checks that the registry at base ("http://host:port"),
// served with header, body and idle timeouts well under a second, closes
// connections that make no progress: headers stalled or dripped, an upload
// body stalled (answered 408) and an idle keep-alive connection; and that
// the stalled body left its upload session free for the next request.
func CheckCutsSlowClients(t *testing.T, base string) {
	t.Helper()
	// Connections that outlive a request are closed within milliseconds:
	// use one per request.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := sendPatiently(client, http.MethodPost, base+"/v2/demo/blobs/uploads/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	session := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || session == "" {
		t.Fatalf("POST of an upload = %d, Location %q; want 202 and a session", resp.StatusCode, session)
	}
	host := strings.TrimPrefix(base, "http://")
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
			sent := CutOff(t, host, tc.kind, session, tc.drip, 10*time.Second)
			if !strings.HasPrefix(sent, tc.wantSent) {
				t.Errorf("the server sent %q before closing, want it to start with %q", sent, tc.wantSent)
			}
		})
	}
	resp, err = sendPatiently(client, http.MethodGet, base+session)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("GET of the session after a stalled PATCH = %d, want 204", resp.StatusCode)
	}
}

// sendPatiently sends a request without a body, once more (up to five
// times in all) when the connection fails before an answer: on a loaded
// machine a server with timeouts of milliseconds may cut an honest
// request's connection before its headers are in.
func sendPatiently(client *http.Client, method, url string) (*http.Response, error) {
	var err error
	for range 5 {
		var req *http.Request
		if req, err = http.NewRequest(method, url, nil); err != nil {
			return nil, err
		}
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			return resp, nil
		}
	}
	return nil, err
}
