package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/internal/slowclient"
)

// TestServeCutsSlowClients checks that the server closes connections that
// make no progress, with timeouts of a few milliseconds: headers stalled
// or dripped, a request body stalled (answered 408) and an idle
// keep-alive connection. The wait is a guard against hanging, not a
// timing assertion.
func TestServeCutsSlowClients(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	cfg := config{headerTimeout: 50 * time.Millisecond, bodyTimeout: 50 * time.Millisecond, idleTimeout: 50 * time.Millisecond}
	go func() { done <- serve(ctx, l, slog.New(slog.DiscardHandler), cfg) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := l.Addr().String()

	// Connections that outlive a request are closed within 50 ms: use
	// one per request.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post("http://"+addr+"/v2/demo/blobs/uploads/", "", nil)
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
			sent := regtest.CutOff(t, addr, tc.kind, session, tc.drip, 10*time.Second)
			if !strings.HasPrefix(sent, tc.wantSent) {
				t.Errorf("the server sent %q before closing, want it to start with %q", sent, tc.wantSent)
			}
		})
	}
	// The stalled body released the session.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+session, nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("GET of the session after a stalled PATCH = %d, want 204", resp.StatusCode)
	}
}
