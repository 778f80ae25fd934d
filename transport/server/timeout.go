package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/regkit/regkit/internal/body"
	"github.com/regkit/regkit/transport"
	"io"
	"math"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

const (
	// defaultBodyTimeout is the window over which a [Handler]
	// measures the progress of a request body unless
	// [WithBodyTimeout] says otherwise: nginx's
	// client_body_timeout.
	defaultBodyTimeout = 60 * time.Second
	// defaultSessionWait is how long a request waits for an upload
	// session that another request holds unless [WithSessionWait]
	// says otherwise.
	defaultSessionWait = 10 * time.Second
	// readHeaderTimeout and idleTimeout are the timeouts of
	// [New].
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// NewServer returns an [http.Server] that serves h with the timeouts a
// server open to untrusted clients needs and net/http leaves off:
//
//   - ReadHeaderTimeout, 10 s: the request line and headers must arrive
//     within it, so a client that drips them does not hold a connection;
//   - IdleTimeout, 2 min: a keep-alive connection without a request for
//     that long is closed (longer than the 90 s after which Go's own
//     clients drop idle connections, so they close first).
//
// It sets no ReadTimeout or WriteTimeout: they bound a whole request or
// response, and would cut a large upload or download that is making
// progress. A [Handler] demands instead that a request body keep
// arriving at a minimum rate ([WithBodyTimeout]). The caller sets
// Addr, TLSConfig and the rest, and may change the timeouts, before
// serving:
//
//	srv := server.New(server.NewHandler(store))
//	srv.Addr = "127.0.0.1:5000"
//	err := srv.ListenAndServe()
func New(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
	}
}

// WithHandlerBodyTimeout sets the window over which the [Handler]
// measures the progress of a request body (a chunk, a blob, a manifest):
// within each window of d the body must deliver at least 1 KiB a minute's
// worth of bytes (1 KiB in the default 60 s, 18 bytes in 1 s, and never
// less than one byte), or end. A body that falls short fails with 408,
// its connection is closed, and an upload session it held is free for
// the next request. A window starts when the body is first read and
// again each time the previous one has delivered its minimum, so a large
// upload that keeps making progress is never cut, however long it takes,
// and a body that arrives in one go is never cut however small it is;
// but one that drips a byte now and then, to hold its connection and its
// session, is. No honest client is that slow: 1 KiB a minute is a
// three-hundredth of a GPRS (2G) mobile link. d == 0 means the default,
// 60 s (nginx's client_body_timeout); d < 0 turns the limit off.
//
// Responses are bounded by d too: the client must take each 64 KiB of a
// response within d (about 1 KiB a second at the default 60 s), or its
// connection is closed, which ends the request and closes what it read
// from, such as a blob it stopped reading. The deadline is never later
// than the one the server's own WriteTimeout sets.
//
// The Handler enforces it with [http.ResponseController.SetReadDeadline],
// setting the deadline at the start of each window, never past the
// deadline the server's own ReadTimeout sets. Under a server or
// middleware whose ResponseWriter cannot set read deadlines (one that
// wraps the writer without an Unwrap method), the Handler cannot
// interrupt a read and the limit does not apply: a stalled body then
// holds its request until the server's ReadTimeout or the client ends it,
// and other requests to its upload session get 429 after
// [WithSessionWait].
func WithBodyTimeout(d time.Duration) Option {
	return func(o *handlerOptions) { o.bodyTimeout = d }
}

// WithSessionWait sets how long a request to an upload session
// waits while another request to the same session is being served (the
// Handler serves them one at a time): past d it fails with 429,
// TOOMANYREQUESTS and Retry-After: 1, instead of waiting for as long as
// the other request lasts. d == 0 means the default, 10 s; d < 0 means
// waiting until the request's context ends.
func WithSessionWait(d time.Duration) Option {
	return func(o *handlerOptions) { o.sessionWait = d }
}

// lockSession locks the upload session key for r, waiting at most
// h.sessionWait for a request that holds it.
func (h *Handler) lockSession(w *responseWriter, r *http.Request, key string) (unlock func(), err error) {
	ctx := r.Context()
	if h.sessionWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.sessionWait)
		defer cancel()
	}
	unlock, err = h.locks.lock(ctx, key)
	if err != nil && r.Context().Err() == nil {
		w.Header().Set("Retry-After", "1")
		return nil, statusError(http.StatusTooManyRequests, transport.CodeTooManyRequests, "the upload session is busy with another request for more than %v: retry later", h.sessionWait)
	}
	return unlock, err
}

// watchBody returns r with a body that fails when it delivers less than
// its minimum in a window of h.bodyTimeout, and a func to call when the
// request is served; it returns r and a no-op when r has no body or the
// limit is off.
func (h *Handler) watchBody(w *responseWriter, r *http.Request, start time.Time) (*http.Request, func()) {
	if h.bodyTimeout <= 0 || r.Body == nil || r.Body == http.NoBody {
		return r, func() {}
	}
	b := &progressBody{rc: r.Body, ctl: http.NewResponseController(w), d: h.bodyTimeout,
		need: bodyMinimum(h.bodyTimeout), w: w}
	b.got.Store(b.need) // the first read starts the first window
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 {
		b.limit = start.Add(srv.ReadTimeout)
	}
	r = r.WithContext(r.Context()) // a shallow copy: the caller's r stays as it was
	r.Body = b
	return r, b.done
}

// bodyMinimum returns the bytes a request body must deliver in a
// window of d: body.MinRate a minute, rounded up, and at least one.
func bodyMinimum(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Minutes()*body.MinRate)))
}

// stalledMessage is the message of the 408 for a body that delivered
// less than its minimum in a window of d.
func stalledMessage(d time.Duration) string {
	return fmt.Sprintf("the request body delivered less than %d bytes in %v", bodyMinimum(d), d)
}

// progressBody is a request body that must make progress: each window
// of d in which it is read must deliver need bytes. The first read starts
// a window by moving the connection's read deadline to d from now; a read
// starts the next window only once the current one has delivered need
// bytes, so a body that falls short meets the deadline. The server
// resets the deadline when it reads the next request, and clears it when
// the body ends (to watch for the client going away).
type progressBody struct {
	rc    io.ReadCloser
	ctl   *http.ResponseController
	d     time.Duration
	need  int64           // the bytes each window must deliver
	limit time.Time       // the server's ReadTimeout deadline; zero if none
	w     *responseWriter // told when the body stalls

	// A proxied request's body is read by the upstream client's
	// goroutine, not the Handler's.
	got atomic.Int64 // bytes delivered in the current window
	eof atomic.Bool  // the body ended: the deadline is the server's again
	off atomic.Bool  // the writer cannot set deadlines
}

func (b *progressBody) Read(p []byte) (int, error) {
	b.next()
	n, err := b.rc.Read(p)
	b.got.Add(int64(n))
	switch {
	case err == io.EOF:
		b.eof.Store(true)
	case err != nil && !b.off.Load() && errors.Is(err, os.ErrDeadlineExceeded):
		b.w.stalled.Store(int64(b.d))
	}
	return n, err
}

func (b *progressBody) Close() error { return b.rc.Close() }

// next starts a new window if the current one has delivered its minimum:
// it moves the read deadline to d from now, or to the server's
// ReadTimeout deadline if that is sooner. Otherwise the deadline stays
// where the current window set it.
func (b *progressBody) next() {
	if b.off.Load() || b.eof.Load() || b.got.Load() < b.need {
		return
	}
	b.got.Store(0)
	dl := time.Now().Add(b.d)
	if !b.limit.IsZero() && b.limit.Before(dl) {
		dl = b.limit
	}
	if err := b.ctl.SetReadDeadline(dl); err != nil {
		b.off.Store(true)
	}
}

// done runs when the Handler returns. A body not read to its end is
// read (and discarded) by the server afterwards, to reuse the
// connection: the current window's deadline, or a new window if it has
// delivered its minimum, bounds that too.
func (b *progressBody) done() { b.next() }

// writePiece is the most a [responseWriter] writes under one deadline.
const writePiece = 64 << 10

// bodyDeadline is the write deadline a [responseWriter] sets on its connection,
// so that a client that stops reading a response cannot hold the request,
// its connection and what it reads from (an open blob file) forever. Its
// zero value has set none.
type bodyDeadline struct {
	ctl   *http.ResponseController // nil until the first write
	set   bool                     // a deadline is set on the connection
	off   bool                     // the writer cannot set deadlines
	limit time.Time                // the server's WriteTimeout deadline; zero if none
}

// extend moves the write deadline of w's connection to d from now.
func (dl *bodyDeadline) extend(w *responseWriter, d time.Duration) {
	if dl.off {
		return
	}
	if dl.ctl == nil {
		dl.ctl = http.NewResponseController(w.ResponseWriter)
	}
	at := time.Now().Add(d)
	if !dl.limit.IsZero() && dl.limit.Before(at) {
		at = dl.limit // never later than the server's own WriteTimeout
	}
	if err := dl.ctl.SetWriteDeadline(at); err != nil {
		dl.off = true
		return
	}
	dl.set = true
}

// endWrites runs when the Handler is done with the response. What the
// server still has to send goes out under a deadline of twice the limit:
// before it writes, the server may read (and discard) what is left of the
// request body, for up to the limit (see progressBody.done). net/http
// clears the deadline once the response is sent, so it never cuts the
// responses of the connection's next requests.
func (w *responseWriter) endWrites() {
	if w.deadline.set {
		w.deadline.extend(w, 2*w.progress)
	}
}
