package fake

import (
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/regkit/regkit/transport/server"
)

// Timeouts bounds how long a [Server] waits on a client that makes no
// progress, so that a test (or a client it points at the fake) that
// leaves connections half-sent cannot hold them forever. A zero field
// means the default; a negative one, no limit.
type Timeouts struct {
	// ReadHeader bounds the time a client may take to send a request's
	// line and headers. Default 10 s, as [server.New] sets.
	ReadHeader time.Duration
	// Idle bounds the time a keep-alive connection waits for its next
	// request. Default 2 min, as [server.New] sets.
	Idle time.Duration
	// Body is the window in which a request body must deliver its minimum
	// (1 KiB a minute, scaled to the window) or end; the request then fails
	// with 408 ([server.WithBodyTimeout]). An upload that keeps
	// sending at least that much is never cut. Default 60 s.
	Body time.Duration
	// SessionWait bounds the time a request to an upload session waits
	// while another request to it is served; it then fails with 429
	// ([server.WithSessionWait]). Default 10 s.
	SessionWait time.Duration
}

// WithTimeouts sets the server's [Timeouts]. Without it, every timeout has
// its default.
func WithTimeouts(t Timeouts) ServerOption {
	return func(c *serverConfig) { c.timeouts = t }
}

// handlerOptions returns the options of the API handler these timeouts
// configure.
func (t Timeouts) handlerOptions() []server.Option {
	return []server.Option{
		server.WithBodyTimeout(t.Body),
		server.WithSessionWait(t.SessionWait),
	}
}

// newHTTPServer returns an unstarted loopback server of h with these
// timeouts.
func (t Timeouts) newHTTPServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config = server.New(h)
	if t.ReadHeader != 0 {
		srv.Config.ReadHeaderTimeout = t.ReadHeader
	}
	if t.Idle != 0 {
		srv.Config.IdleTimeout = t.Idle
	}
	return srv
}
