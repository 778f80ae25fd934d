package fake

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Request is one request a [Server] answered, as its request log holds it.
// It never holds credentials: no headers, no query (which may carry
// secrets), no body.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the escaped request path, without the query.
	Path string
	// Status is the status code of the response.
	Status int
	// Bytes is the size of the response body written.
	Bytes int64
	// Duration is how long the server took to answer.
	Duration time.Duration
	// User is the user the request authenticated as; empty for anonymous
	// requests, for requests refused by authentication and for servers
	// without authentication.
	User string
}

// Requests returns the requests the server answered so far, oldest first:
// a copy, which later requests do not change. A request appears once its
// response is written.
func (s *Server) Requests() []Request { return s.log.all() }

// ResetRequests empties the request log, so a test can count the requests
// of one operation.
func (s *Server) ResetRequests() { s.log.reset() }

// requestLog is the list of requests a server answered. Its zero value is
// empty and ready to use.
type requestLog struct {
	mu      sync.Mutex
	entries []Request
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, r)
}

func (l *requestLog) all() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
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
