package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/regkit/regkit/transport"
	"io"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// defaultMaxManifestSize is the largest manifest a [Handler] accepts
// unless [WithMaxManifestSize] says otherwise: the 4 MiB the
// distribution spec asks registries to support at least.
const defaultMaxManifestSize = 4 << 20

// statusClientClosed is the status recorded (and sent, to nobody) when the
// client went away before the response: nginx's 499.
const statusClientClosed = 499

// Handler serves a [transport.Transport] as the OCI distribution API v1.1, over HTTP:
// over the in-memory store of [github.com/regkit/regkit/registry/fake] it is
// a registry that any client (docker, skopeo, crane, oras, regkit's own
// [github.com/regkit/regkit/transport/remote.Client]) can talk to; over a [github.com/regkit/regkit/transport/remote.Client] it is a proxy.
//
// It serves the endpoints of the spec under /v2/: the version check,
// manifests (GET, HEAD, PUT, DELETE), blobs (GET with Range, HEAD, DELETE),
// uploads (monolithic POST then PUT, single POST with ?digest=, chunked
// PATCH, status, cancel, mounts with and without from=), tag and catalog
// lists paged with n, last and Link, and the referrers API. Every response
// carries Docker-Distribution-API-Version: registry/2.0; failures carry the
// spec's JSON error body, with the code of the [*Error] the Transport
// returned and its status ([transport.Code.HTTPStatus]).
//
// The Handler checks every request before the Transport sees it: paths with
// "..", empty segments or encoded slashes, invalid names, tags and digests,
// malformed ranges and page sizes get a 4xx, never a 5xx. A 5xx means the
// Transport failed with an error that is not an [*Error].
//
// An upload session's Range header is "0-<last byte>", and "0-0" when it is
// empty, as the distribution registry sends: a client cannot tell an empty
// session from one of one byte, except by the 416 (with the Range again)
// that a chunk at the wrong offset gets. Over a [github.com/regkit/regkit/transport/remote.Client] (a proxy) the Range
// counts only the bytes the upstream registry acknowledged.
//
// A Handler is safe for concurrent use. Requests to one upload session are
// served one at a time, as a [transport.BlobWriter] requires; a request that waits
// for its session longer than [WithSessionWait] fails with 429. A
// request body that delivers less than 1 KiB a minute, measured over each
// window of [WithBodyTimeout], fails the request with 408. Serve it
// with an [http.Server] that also bounds the wait for headers and between
// requests, as [New] does.
type Handler struct {
	t           transport.Transport
	log         *slog.Logger
	maxManifest int64
	bodyTimeout time.Duration // <= 0: off
	sessionWait time.Duration // <= 0: until the request's context ends
	locks       sessionLocks
}

// Option configures a [Handler] made by [NewHandler].
type Option func(*handlerOptions)

type handlerOptions struct {
	logger      *slog.Logger
	maxManifest int64
	bodyTimeout time.Duration
	sessionWait time.Duration
}

// WithLogger makes the [Handler] log one line per request at Info
// level: method, path (without the query, which may hold secrets), status,
// bytes written and duration. Requests that fail with a 5xx are logged at
// Error level, with the error. A nil logger, the default, logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(o *handlerOptions) { o.logger = l }
}

// WithMaxManifestSize sets the largest manifest body the [Handler]
// accepts, in bytes; a larger PUT fails with 413 and MANIFEST_INVALID after
// reading at most n+1 bytes. n == 0 means the default, 4 MiB; n < 0 means
// no limit.
func WithMaxManifestSize(n int64) Option {
	return func(o *handlerOptions) { o.maxManifest = n }
}

// NewHandler returns a Handler that serves t. It panics if t is nil.
//
// t must honour every field of [transport.PutManifestOptions] it is given,
// Tags included (the tag parameters of a manifest put by digest): the
// Handler confirms those tags to the client once the put succeeds.
func NewHandler(t transport.Transport, opts ...Option) *Handler {
	if t == nil {
		panic("server: NewHandler with a nil Transport")
	}
	var o handlerOptions
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.maxManifest == 0:
		o.maxManifest = defaultMaxManifestSize
	case o.maxManifest < 0:
		o.maxManifest = math.MaxInt64 - 1 // n+1 bytes are read
	}
	if o.bodyTimeout == 0 {
		o.bodyTimeout = defaultBodyTimeout
	}
	if o.sessionWait == 0 {
		o.sessionWait = defaultSessionWait
	}
	return &Handler{t: t, log: o.logger, maxManifest: o.maxManifest,
		bodyTimeout: o.bodyTimeout, sessionWait: o.sessionWait}
}

var _ http.Handler = (*Handler)(nil)

// ServeHTTP serves one request of the distribution API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &responseWriter{ResponseWriter: w, progress: h.bodyTimeout}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 {
		sw.deadline.limit = start.Add(srv.WriteTimeout)
	}
	// Docker-Distribution-API-Version, in the canonical form it is sent
	// in, which Set need not allocate to make.
	sw.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	defer h.finish(sw, r, start)
	r, done := h.watchBody(sw, r, start)
	defer done()
	h.route(sw, r)
}

// finish turns a panic into a 500 and logs the request.
func (h *Handler) finish(w *responseWriter, r *http.Request, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler { // net/http's way to abort a response: not ours to stop
			panic(p)
		}
		w.failure = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		if !w.wroteHeader {
			writeError(w, r, http.StatusInternalServerError, &transport.Error{Code: "UNKNOWN", Message: "internal server error"})
		}
	}
	w.endWrites()
	if h.log == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.EscapedPath()),
		slog.Int("status", w.status()),
		slog.Int64("bytes", w.written),
		slog.Duration("duration", time.Since(start)),
	}
	level := slog.LevelInfo
	if w.failure != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", w.failure.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// fail answers the request with the error err: the spec's error body with
// the code and status of err's [*Error], 499 (to nobody) if the client went
// away, or 500 for any other error, which is logged. A [*transport.RateLimitError]
// (a proxied registry's 429) passes its Retry-After on.
func (h *Handler) fail(w *responseWriter, r *http.Request, err error) {
	if d := time.Duration(w.stalled.Load()); d > 0 { // the server canceled r when the read failed: not a 499
		writeError(w, r, http.StatusRequestTimeout, &transport.Error{Code: "UNKNOWN", Message: stalledMessage(d)})
		return
	}
	status, e := classify(r, err)
	if status >= http.StatusInternalServerError {
		w.failure = err
	}
	var rl *transport.RateLimitError
	if status == http.StatusTooManyRequests && errors.As(err, &rl) && !rl.RetryAt.IsZero() {
		secs := max(1, int64(math.Ceil(time.Until(rl.RetryAt).Seconds())))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeError(w, r, status, e)
}

// httpError is an [*Error] sent with a status other than its code's.
type httpError struct {
	status int
	err    *transport.Error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// statusError returns an error that [Handler.fail] sends with status.
func statusError(status int, code transport.Code, format string, args ...any) error {
	return &httpError{status: status, err: transport.Errorf(code, format, args...)}
}

// classify returns the status and error body entry for err.
func classify(r *http.Request, err error) (int, *transport.Error) {
	if r.Context().Err() != nil {
		return statusClientClosed, &transport.Error{Code: "UNKNOWN", Message: "request canceled"}
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.err
	}
	var e *transport.Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code.HTTPStatus(), e
	}
	var c transport.Code
	if errors.As(err, &c) && c != "" { // a bare sentinel: transport.ErrDenied
		return c.HTTPStatus(), &transport.Error{Code: c}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout, &transport.Error{Code: "UNKNOWN", Message: "the backend timed out"}
	}
	return http.StatusInternalServerError, &transport.Error{Code: "UNKNOWN", Message: "internal server error"}
}

// errorEntry is one error of the spec's error body.
type errorEntry struct {
	Code    transport.Code `json:"code"`
	Message string         `json:"message"`
	Detail  any            `json:"detail,omitempty"`
}

// writeError writes the spec's error body for e with status; HEAD
// responses get the headers only.
func writeError(w http.ResponseWriter, r *http.Request, status int, e *transport.Error) {
	msg := e.Message
	if e.Err != nil && msg != "" {
		msg += ": " + e.Err.Error()
	} else if e.Err != nil {
		msg = e.Err.Error()
	}
	if msg == "" {
		msg = e.Code.Text()
	}
	entry := errorEntry{Code: e.Code, Message: msg, Detail: e.Detail}
	body, err := json.Marshal(map[string][]errorEntry{"errors": {entry}})
	if err != nil { // a Detail that is no JSON
		entry.Detail = nil
		body, _ = json.Marshal(map[string][]errorEntry{"errors": {entry}})
	}
	writeBody(w, r, status, "application/json", body)
}

// writeJSONBody writes v as a JSON body with status.
func writeJSONBody(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeBody(w, r, status, contentType, body)
	return nil
}

// writeBody writes body with status and its Content-Type and
// Content-Length; HEAD responses get the headers only.
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// writeEmpty writes a response without a body.
func writeEmpty(w http.ResponseWriter, status int) {
	if status != http.StatusNoContent && status != http.StatusNotModified {
		w.Header().Set("Content-Length", "0")
	}
	w.WriteHeader(status)
}

// responseWriter records the status and size of a response, and the failure to
// log with it.
type responseWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	written     int64
	failure     error        // a 5xx cause, or a failure after the header
	stalled     atomic.Int64 // the body timeout, if the request body stalled

	progress time.Duration // how long a piece of a write may take; <= 0: no limit
	deadline bodyDeadline
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write writes p, in pieces of at most writePiece bytes, each of
// which the client must take within w.progress.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.progress <= 0 {
		n, err := w.ResponseWriter.Write(p)
		w.written += int64(n)
		return n, err
	}
	total := 0
	for len(p) > 0 {
		piece := p[:min(len(p), writePiece)]
		w.deadline.extend(w, w.progress)
		n, err := w.ResponseWriter.Write(piece)
		total += n
		w.written += int64(n)
		if err != nil {
			return total, err
		}
		p = p[n:]
	}
	return total, nil
}

// ReadFrom copies r with the underlying writer's ReadFrom, if it has one
// and writes have no time limit. [io.Copy] still prefers a source's
// WriteTo.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.progress > 0 { // through Write, which moves the deadline on
		return io.Copy(writeOnly{w}, r)
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.written += n
	return n, err
}

// writeOnly hides the ReadFrom of a writer from [io.Copy].
type writeOnly struct{ io.Writer }

// Unwrap gives [http.ResponseController] the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}
