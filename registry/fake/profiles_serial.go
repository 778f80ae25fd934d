package fake

import (
	"context"
	"net/http"
	"sync"
)

// serialGate lets one request at a time through, for [ProfileSerial].
type serialGate chan struct{}

// enter waits for the gate, and returns the function that opens it again
// (once, however often it is called), or false when ctx ended first (the
// client went away).
func (g serialGate) enter(ctx context.Context) (func(), bool) {
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { <-g }) }, true
}

// serialWriter opens the gate of [ProfileSerial] when the response's
// headers are written: the rest of the response streams without it.
type serialWriter struct {
	http.ResponseWriter
	release func()
}

func (w *serialWriter) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code)
	if code >= 200 { // 1xx headers are not the answer
		w.release()
	}
}

func (w *serialWriter) Write(p []byte) (int, error) {
	w.release() // the implicit 200 goes out with the first bytes
	return w.ResponseWriter.Write(p)
}

// Unwrap gives [http.ResponseController] the response writer.
func (w *serialWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveSerial serves r with serve, after every request that came before it
// has been read and answered (headers) under [ProfileSerial].
func (s *Server) serveSerial(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) {
	release, ok := s.serial.enter(r.Context())
	if !ok {
		return
	}
	defer release()
	serve(&serialWriter{ResponseWriter: w, release: release}, r)
}
