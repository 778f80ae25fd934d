package fake

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/regkit/regkit/transport/server"
)

// Server is the fake registry served over HTTP on loopback, so real clients
// (regkit's HTTP client, skopeo, crane, docker) can talk to it. It speaks
// the OCI distribution API through [server.Handler], optionally behind
// authentication ([WithBasicAuth], [WithTokenAuth]), and records the
// requests it answers, the last 10,000 by default ([Server.Requests],
// [WithRequestLog]). It can misbehave on purpose:
// inject faults into the requests a test picks ([WithFaults],
// [Server.SetFaults]) and act like a real service in the ways real services
// depart from the spec ([WithProfile]).
//
// A Server is safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:port".
	URL string
	// Host is the server's host:port, the form registry.New and
	// references take.
	Host string
	// Store is the in-memory backend the server serves. It knows nothing
	// of authentication: tests may read and write it directly.
	Store *Store

	srv     *httptest.Server
	handler http.Handler
	logger  *slog.Logger
	auth    *authenticator // nil: no authentication
	log     requestLog
	faults  faultSet
	profile profileSet
	blobs   *blobHost // the object storage of ProfileS3; nil without it

	serial serialGate // the one request at a time of ProfileSerial; nil without it
}

// ServerOption configures a [Server] made by [NewServer] or [Serve].
// Store options are passed through [WithStoreOptions].
type ServerOption func(*serverConfig)

// serverConfig is what the ServerOptions set. Conflicting options are
// recorded in conflicts and make NewServer panic.
type serverConfig struct {
	store     *Store
	storeOpts []Option
	logger    *slog.Logger
	logSize   int // the requests the request log keeps; 0: none

	mode   authMode
	users  map[string]string
	grants []grant
	ttl    time.Duration
	now    func() time.Time // the clock tokens are issued and checked by

	faults   []Fault
	profiles profileSet
	timeouts Timeouts

	conflicts []string
}

// WithStoreOptions configures the [Store] the server makes. It cannot be
// combined with [WithStore].
func WithStoreOptions(opts ...Option) ServerOption {
	return func(c *serverConfig) { c.storeOpts = append(c.storeOpts, opts...) }
}

// WithStore serves s instead of a new, empty store, so a test can fill it
// beforehand or serve one store from several servers. A nil s means a new
// store. It cannot be combined with [WithStoreOptions].
func WithStore(s *Store) ServerOption {
	return func(c *serverConfig) { c.store = s }
}

// WithLogger logs one line per request at Info level: method, path (never
// the query), status, bytes written and duration, as
// [server.WithLogger] does, plus the authenticated user for the
// requests the server answers itself (refused by authentication, or to the
// token endpoint). Requests that fail with a 5xx are logged at Error level.
// Credentials and tokens are never logged. A nil logger, the default, logs
// nothing.
func WithLogger(l *slog.Logger) ServerOption {
	return func(c *serverConfig) { c.logger = l }
}

// NewServer starts serving a registry on a loopback port: a new, empty
// in-memory [Store] unless [WithStore] says otherwise, without
// authentication unless [WithBasicAuth] or [WithTokenAuth] turns it on. The
// caller must Close it; tests can use [Serve] instead.
//
// NewServer panics if the options conflict (two authentication modes,
// [WithStore] with [WithStoreOptions]) or are invalid (a grant for a user
// that does not exist, an unknown action, a zero [Fault], an unknown
// [Profile]): these are mistakes in a test, found on its first run.
func NewServer(opts ...ServerOption) *Server {
	c := serverConfig{now: time.Now, logSize: defaultRequestLog}
	for _, opt := range opts {
		opt(&c)
	}
	if c.store != nil && len(c.storeOpts) > 0 {
		panic("fake: NewServer: WithStore and WithStoreOptions conflict: configure the store where it is made")
	}
	a, err := c.authenticator() // reports every conflict
	if err != nil {
		panic("fake: NewServer: " + err.Error())
	}
	store := c.store
	if store == nil {
		store = NewStore(c.storeOpts...)
	}
	s := &Server{
		Store:   store,
		handler: server.NewHandler(store, append(c.timeouts.handlerOptions(), server.WithLogger(c.logger))...),
		logger:  c.logger,
		auth:    a,
		profile: c.profiles,
		log:     requestLog{size: c.logSize},
	}
	s.faults.set(c.faults)
	if c.profiles.has(ProfileS3) {
		s.blobs = startBlobHost(s, c.now, c.timeouts)
	}
	if c.profiles.has(ProfileSerial) {
		s.serial = make(serialGate, 1)
	}
	s.srv = c.timeouts.newHTTPServer(http.HandlerFunc(s.serveHTTP))
	s.Host = s.srv.Listener.Addr().String()
	s.URL = "http://" + s.Host
	if a != nil {
		a.realm = s.URL + tokenPath
	}
	s.srv.Start()
	return s
}

// Serve starts a server for a test and closes it when the test ends: the
// one call a test needs. It panics on conflicting options, as [NewServer]
// does.
//
//	srv := fake.Serve(t, fake.WithBasicAuth(map[string]string{"alice": "s3cret"}))
//	reg := srv.Registry() // signed in as alice
func Serve(tb testing.TB, opts ...ServerOption) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down, closing open connections, and the blob
// host of [ProfileS3] with it.
func (s *Server) Close() {
	s.srv.Close()
	if s.blobs != nil {
		s.blobs.srv.Close()
	}
}

// serveHTTP serves one request: the token endpoint, a refusal, or the
// distribution API through the handler. Its path is parsed here, once:
// authorization, faults, profiles, the request log and the handler all act
// on that parse.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serial != nil {
		s.serveSerial(w, r, s.serveParsed)
		return
	}
	s.serveParsed(w, r)
}

// serveParsed serves r once the server may: see [Server.serveHTTP].
func (s *Server) serveParsed(w http.ResponseWriter, r *http.Request) {
	r, tg := parseRequest(r)
	s.record(w, r, tg, s.serve)
}

// record serves r, whose target is tg, with serve, through the faults that
// fire on it, and logs it: when its response is written, or when a fault
// cuts it.
func (s *Server) record(w http.ResponseWriter, r *http.Request, tg target, serve serveFunc) {
	x := &exchange{start: time.Now(), r: r, tg: tg, lw: logWriter{ResponseWriter: w}, srv: s}
	x.fired = s.faults.fire(r.Method, tg.rt, tg.repo, r.ContentLength != 0)
	inject(x, serve)
	s.finish(x)
}

// serve answers r. It records in x the user it authenticated ("" for
// anonymous), as soon as it knows, and whether the server answered r
// itself rather than the API handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, x *exchange) {
	if s.auth == nil {
		s.serveProfiled(w, r, x)
		return
	}
	if s.auth.mode == authToken && x.tg.rt == RouteToken {
		x.user, x.self = s.auth.serveToken(w, r), true
		return
	}
	r, user, ok := s.authorize(w, r, x.tg.api)
	x.user, x.self = user, !ok
	if ok {
		s.serveProfiled(w, r, x)
	}
}
