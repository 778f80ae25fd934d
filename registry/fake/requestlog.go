package fake

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Request is one request a [Server] answered, as its request log holds it,
// or one call of the in-memory [Registry] as the request it stands for.
// It never holds credentials: no headers, no query (which may carry
// secrets), no body.
type Request struct {
	// Method is the HTTP method. One longer than 64 bytes is cut there and
	// ends in "...".
	Method string
	// Path is the escaped request path, without the query. One longer than
	// 4 KiB is cut there and ends in "...", so that a log of long paths
	// stays small.
	Path string
	// Route is the kind of endpoint the path names, read as the server
	// serves it (see [Route]); "" for paths that name none.
	Route Route
	// Status is the status code of the response; 0 when there was none: a
	// fault dropped the connection before the response started, or the
	// client went away during a delay.
	Status int
	// Bytes is the size of the response body written.
	Bytes int64
	// Duration is how long the server took to answer.
	Duration time.Duration
	// User is the user the request authenticated as; empty for anonymous
	// requests, for requests refused by authentication and for servers
	// without authentication.
	User string
	// Fault names the faults that fired on the request (see
	// [Server.SetFaults]), as [Fault.String] describes them, separated by
	// "; "; empty when none did.
	Fault string
}

// Requests returns the requests the server answered so far, oldest first:
// a copy, which later requests do not change. The log holds the last
// 10,000 requests unless [WithRequestLog] says otherwise. A request appears
// once its response is written, or, when a fault cuts its connection,
// before the connection closes.
func (s *Server) Requests() []Request { return s.log.all() }

// ResetRequests empties the request log, so a test can count the requests
// of one operation.
func (s *Server) ResetRequests() { s.log.reset() }

// exchange is one request as the server serves and logs it.
type exchange struct {
	start time.Time
	r     *http.Request
	tg    target    // what the request names, parsed once
	lw    logWriter // the response, as the handler writes it
	srv   *Server   // the server that logs it, also when a fault cuts the connection
	fired []Fault   // the faults that fired on it
	bf    *bodyFaults

	// Set while it is served:
	user string // authenticated
	self bool   // answered by the server, not the API handler
	gone bool   // the client went away during a delay: nothing was answered

	logged bool
}

// finish adds x to the request log, and logs it with the server's logger
// when the server answered it itself; it does so once, the first time it
// is called. A handler calls it from one goroutine.
func (s *Server) finish(x *exchange) {
	if x.logged {
		return
	}
	x.logged = true
	entry := Request{
		Method:   clip(x.r.Method, maxLogMethod),
		Path:     clip(x.r.URL.EscapedPath(), maxLogPath),
		Route:    x.tg.rt,
		Status:   x.lw.status(),
		Bytes:    x.lw.written,
		Duration: time.Since(x.start),
		User:     x.user,
		Fault:    faultNames(x.fired),
	}
	if x.lw.code == 0 && (x.gone || x.bf != nil && x.bf.cut) {
		entry.Status = 0 // no response: dropped, or the client left first
	}
	s.log.add(entry)
	if !x.self || s.logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", entry.Method),
		slog.String("path", entry.Path),
		slog.Int("status", entry.Status),
		slog.Int64("bytes", entry.Bytes),
		slog.Duration("duration", entry.Duration),
		slog.String("user", entry.User),
	}
	if entry.Fault != "" {
		attrs = append(attrs, slog.String("fault", entry.Fault))
	}
	s.logger.LogAttrs(x.r.Context(), slog.LevelInfo, "request", attrs...)
}

// The longest method and path a [Request] holds.
const (
	maxLogMethod = 64
	maxLogPath   = 4 << 10
)

// clip returns a copy of s, cut to n bytes with "..." at the end when it is
// longer. It is a copy so that the log does not keep the request line,
// which can be a megabyte, alive through a substring of it.
func clip(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	return s[:n-3] + "..."
}

// logWriter records the status and size of a response.
type logWriter struct {
	http.ResponseWriter
	code    int
	written int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom copies r with the underlying writer's ReadFrom, if it has one.
func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.written += n
	return n, err
}

// Unwrap gives [http.ResponseController] the underlying writer.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *logWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
