package regtest

import (
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
