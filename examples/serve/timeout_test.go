package main

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/regkit/regkit/internal/regtest"
)

// TestServeCutsSlowClients checks that the server closes connections that
// make no progress, with timeouts of a fifth of a second: headers stalled
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
	cfg := config{headerTimeout: 200 * time.Millisecond, bodyTimeout: 200 * time.Millisecond, idleTimeout: 200 * time.Millisecond}
	go func() { done <- serve(ctx, l, slog.New(slog.DiscardHandler), cfg) }()
	t.Cleanup(func() { cancel(); <-done })
	regtest.CheckCutsSlowClients(t, "http://"+l.Addr().String())
}
