package fake

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/regkit/regkit/transport"
)

// Error codes the distribution registry sends that the OCI spec does not
// name.
const (
	codeUnavailable transport.Code = "UNAVAILABLE"
	codeUnknown     transport.Code = "UNKNOWN"
)

// errFaultCut is what writes and reads of a body get once a fault cut it.
var errFaultCut = errors.New("body cut by an injected fault")

// serveFunc answers a request, recording in x what the log needs to
// know of it (see [exchange]).
type serveFunc func(w http.ResponseWriter, r *http.Request, x *exchange)

// inject serves x's request with serve, through the faults that fired on
// it: the delays first, then the first status fault's answer instead of
// serve, with the body faults in the way of the request or response body.
func inject(x *exchange, serve serveFunc) {
	r := x.r
	for _, f := range x.fired {
		if f.kind == faultDelay && !sleep(r.Context(), f.delay) {
			x.self, x.gone = true, true
			return
		}
	}
	var out http.ResponseWriter = &x.lw
	for _, f := range x.fired {
		if !f.body() {
			continue
		}
		if x.bf == nil {
			// Logs it when a fault cuts the connection.
			onCut := func() { x.srv.finish(x) }
			x.bf = &bodyFaults{next: &x.lw, bodyState: bodyState{ctx: r.Context()}, onRequest: r.ContentLength != 0, onCut: onCut} // else a GET
			out = x.bf
			if x.bf.onRequest {
				r = r.WithContext(r.Context())
				r.Body = &bodyReader{faultReader: faultReader{b: &x.bf.bodyState, r: x.r.Body, cut: x.bf.cutRequest}, body: x.r.Body}
			}
		}
		x.bf.faults = append(x.bf.faults, f)
	}
	for _, f := range x.fired {
		if f.kind == faultStatus {
			f.answer(out, r, x.tg.rt)
			x.self = true
			return
		}
	}
	serve(out, r, x)
}

// sleep waits d, or less if ctx is done first; it reports whether it
// waited all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// answer writes the error response of a status fault.
func (f Fault) answer(w http.ResponseWriter, r *http.Request, rt Route) {
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterValue(f.retryAfter))
	}
	writeError(w, r, f.status, f.errorEntry(rt))
}

// errorEntry is the error a status fault answers a request to rt with: the
// one entry of its error body.
func (f Fault) errorEntry(rt Route) *transport.Error {
	return &transport.Error{Code: faultCode(f.status, rt), Message: "injected fault: " + f.String()}
}

// faultCode returns the error code a registry sends with status on route.
func faultCode(status int, rt Route) transport.Code {
	switch status {
	case http.StatusBadRequest:
		switch rt {
		case RouteManifest:
			return transport.CodeManifestInvalid
		case RouteUpload:
			return transport.CodeBlobUploadInvalid
		}
	case http.StatusUnauthorized:
		return transport.CodeUnauthorized
	case http.StatusForbidden:
		return transport.CodeDenied
	case http.StatusNotFound:
		switch rt {
		case RouteBlob, RouteBlobHost:
			return transport.CodeBlobUnknown
		case RouteUpload:
			return transport.CodeBlobUploadUnknown
		case RouteManifest:
			return transport.CodeManifestUnknown
		}
		return transport.CodeNameUnknown
	case http.StatusMethodNotAllowed:
		return transport.CodeUnsupported
	case http.StatusPreconditionFailed:
		return transport.CodePreconditionFailed
	case http.StatusTooManyRequests:
		return transport.CodeTooManyRequests
	case http.StatusServiceUnavailable:
		return codeUnavailable
	}
	return codeUnknown
}

// bodyFaults applies the body faults that fired on a request to its body:
// the request body when it has one (then bodyReader reads through it),
// the response body otherwise. It is the response writer either way, so
// that nothing reaches a connection a fault cut. A handler uses it from one
// goroutine.
type bodyFaults struct {
	next *logWriter
	bodyState
	onRequest bool

	onCut func() // called when a fault cuts the connection, before it closes
	cut   bool   // a fault cut the body: nothing more goes through
}

// bodyState is where a body is in the body faults that act on it: what
// the server's [bodyFaults] and the in-memory registry's readers share, so
// that a fault cuts, flips and throttles the same bytes whichever way the
// body goes. It is used from one goroutine.
type bodyState struct {
	ctx     context.Context
	faults  []Fault   // of a body kind, in their order
	off     int64     // bytes of the body through so far
	started time.Time // when the first byte went through, for throttling
}

// Header returns the response's header.
func (b *bodyFaults) Header() http.Header { return b.next.Header() }

// WriteHeader sends the response's header, unless the body was cut.
func (b *bodyFaults) WriteHeader(code int) {
	if !b.cut {
		b.next.WriteHeader(code)
	}
}

// Write sends p, or the part of it before a cut, as the faults say.
func (b *bodyFaults) Write(p []byte) (int, error) {
	if b.cut {
		return 0, errFaultCut
	}
	if b.onRequest {
		return b.next.Write(p)
	}
	if b.next.code == 0 {
		b.next.WriteHeader(http.StatusOK) // the headers go out before any cut
	}
	keep, cutBy := b.limit(int64(len(p)))
	out := b.flip(p[:keep], true)
	n, err := b.throttled(out)
	if err != nil {
		return n, err
	}
	if cutBy != nil {
		b.cutConn(cutBy.kind == faultDrop)
		return n, errFaultCut
	}
	return n, nil
}

// Unwrap gives [http.ResponseController] the response writer.
func (b *bodyFaults) Unwrap() http.ResponseWriter { return b.next }

// limit returns how many of the next n bytes of the body go through, and
// the fault that cuts the body within them, if any.
func (b *bodyState) limit(n int64) (int64, *Fault) {
	var by *Fault
	keep := n
	for i, f := range b.faults {
		if (f.kind == faultDrop || f.kind == faultTruncate) && f.n < b.off+n && f.n-b.off < keep {
			keep, by = max(f.n-b.off, 0), &b.faults[i]
		}
	}
	return keep, by
}

// flip inverts the bytes of p that FlipByte faults name, p being the body
// from offset b.off on. With copyFirst it changes a copy, never p, whose
// bytes may be the store's.
func (b *bodyState) flip(p []byte, copyFirst bool) []byte {
	copied := !copyFirst
	for _, f := range b.faults {
		if f.kind != faultFlip || f.n < b.off || f.n >= b.off+int64(len(p)) {
			continue
		}
		if !copied {
			p, copied = append([]byte(nil), p...), true
		}
		p[f.n-b.off] ^= 0xff
	}
	return p
}

// rate returns the lowest rate of the Throttle faults, or 0 if none.
func (b *bodyState) rate() int64 {
	var r int64
	for _, f := range b.faults {
		if f.kind == faultThrottle && (r == 0 || f.n < r) {
			r = f.n
		}
	}
	return r
}

// step returns how many bytes, at most want, may go through now, after
// waiting as the throttle asks; it fails if the client went away.
func (b *bodyState) step(want int) (int, error) {
	rate := b.rate()
	if rate == 0 || want == 0 {
		return want, nil
	}
	if b.started.IsZero() {
		b.started = time.Now()
	}
	n := int(min(int64(want), max(rate/20, 1)))
	due := b.started.Add(time.Duration(float64(b.off) / float64(rate) * float64(time.Second)))
	if !sleep(b.ctx, time.Until(due)) {
		return 0, b.ctx.Err()
	}
	return n, nil
}

// throttled writes p to the response at the throttle's pace, flushing each
// piece, and advances the body offset.
func (b *bodyFaults) throttled(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := b.step(len(p) - written)
		if err != nil {
			return written, err
		}
		n, err = b.next.Write(p[written : written+n])
		written += n
		b.off += int64(n)
		if err != nil {
			return written, err
		}
		if b.rate() > 0 && !b.complete() {
			_ = http.NewResponseController(b.next).Flush()
		}
	}
	return written, nil
}

// complete reports whether the response body reached its Content-Length:
// its end then goes out when the handler returns, after the request is
// logged, so that a client never sees a whole response before the log
// holds it.
func (b *bodyFaults) complete() bool {
	n, err := strconv.ParseInt(b.next.Header().Get("Content-Length"), 10, 64)
	return err == nil && b.off >= n
}

// cutConn sends what was written, then closes the connection: with a reset
// (RST) when reset, else with a plain close (FIN).
func (b *bodyFaults) cutConn(reset bool) {
	b.cut = true
	rc := http.NewResponseController(b.next)
	if b.next.code != 0 {
		_ = rc.Flush()
	}
	b.onCut()
	conn, buf, err := rc.Hijack()
	if err != nil {
		return // not an HTTP/1 connection: the handler's error ends it
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bodyReader is a request body read through the body faults.
type bodyReader struct {
	faultReader
	body io.Closer
}

// Close closes the request body.
func (r *bodyReader) Close() error { return r.body.Close() }

// cutRequest cuts the request body at the cut of a DropAfter or Truncate
// fault, and returns what reading it gives there.
func (b *bodyFaults) cutRequest(by Fault) error {
	if by.kind == faultTruncate {
		// As net/http reports a body shorter than its Content-Length;
		// the rest of it is not read, so the connection closes.
		b.Header().Set("Connection", "close")
		return io.ErrUnexpectedEOF
	}
	b.cutConn(true)
	return errFaultCut
}

// faultReader reads r through the body faults of b: throttled, with bytes
// flipped, and cut where a DropAfter or Truncate fault says, where a read
// gives what cut returns (from then on). A body no longer than the cut
// ends normally.
type faultReader struct {
	b   *bodyState
	r   io.Reader
	cut func(by Fault) error
	err error // set once the body was cut
}

// Read reads the body, as the faults say.
func (r *faultReader) Read(p []byte) (int, error) {
	b := r.b
	if r.err != nil {
		return 0, r.err
	}
	n, err := b.step(len(p))
	if err != nil {
		return 0, err
	}
	keep, cutBy := b.limit(int64(n))
	if cutBy != nil && keep == 0 {
		// At the cut: it applies only if the body goes on.
		var one [1]byte
		if m, _ := io.ReadFull(r.r, one[:]); m == 0 {
			return 0, io.EOF
		}
		r.err = r.cut(*cutBy)
		return 0, r.err
	}
	if cutBy != nil {
		n = int(keep) // read up to the cut, then decide there
	}
	n, err = r.r.Read(p[:n])
	b.flip(p[:n], false)
	b.off += int64(n)
	return n, err
}

// faultNames returns the description of fired, for the request log.
func faultNames(fired []Fault) string {
	names := make([]string, len(fired))
	for i, f := range fired {
		names[i] = f.String()
	}
	return strings.Join(names, "; ")
}
