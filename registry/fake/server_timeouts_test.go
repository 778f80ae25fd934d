package fake

import (
	"testing"
	"time"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/internal/slowclient"
)

// TestServerCutsSlowClients checks that the fake closes connections that
// make no progress, with timeouts of a fifth of a second: headers stalled
// or dripped, a request body stalled (answered 408, and its upload
// session then served) and an idle keep-alive connection. The wait is a
// guard against hanging, not a timing assertion.
func TestServerCutsSlowClients(t *testing.T) {
	t.Parallel()
	short := 200 * time.Millisecond
	srv := Serve(t, WithTimeouts(Timeouts{ReadHeader: short, Idle: short, Body: short, SessionWait: -1}))
	regtest.CheckCutsSlowClients(t, srv.URL)
}

// TestServerCutsSlowBlobHostClients checks that the blob host of
// ProfileS3 has the server's timeouts too.
func TestServerCutsSlowBlobHostClients(t *testing.T) {
	t.Parallel()
	short := 200 * time.Millisecond
	srv := Serve(t, WithProfile(ProfileS3), WithTimeouts(Timeouts{ReadHeader: short, Idle: short}))
	host := srv.blobs.srv.Listener.Addr().String()
	for _, k := range []slowclient.Kind{slowclient.Header, slowclient.Idle} {
		regtest.CutOff(t, host, k, "", 0, 10*time.Second)
	}
}
