package fake

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regkit/regkit/transport"
)

// Server is the fake registry served over HTTP on loopback, so real clients
// (regkit's HTTP client, skopeo, crane, docker) can talk to it. It speaks
// the OCI distribution API through [transport.Handler].
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:port".
	URL string
	// Host is the server's host:port, the form registry.New and
	// references take.
	Host string
	// Store is the in-memory backend the server serves.
	Store *Store

	srv *httptest.Server
}

// NewServer starts serving a new, empty in-memory registry on a loopback
// port. The caller must Close it; tests can use [Serve] instead.
func NewServer(opts ...Option) *Server {
	return NewServerFor(NewStore(opts...))
}

// NewServerFor serves the store s over HTTP on a loopback port.
func NewServerFor(s *Store, opts ...transport.HandlerOption) *Server {
	srv := httptest.NewServer(transport.NewHandler(s, opts...))
	return &Server{
		URL:   srv.URL,
		Host:  strings.TrimPrefix(srv.URL, "http://"),
		Store: s,
		srv:   srv,
	}
}

// Serve starts a server for a test and closes it when the test ends: the
// one call a test needs.
//
//	srv := fake.Serve(t)
//	reg, err := registry.New(srv.Host)
func Serve(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down, closing open connections.
func (s *Server) Close() { s.srv.Close() }
