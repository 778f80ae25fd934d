package fake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// faultKind is the one effect of a fault.
type faultKind int

const (
	faultNone     faultKind = iota // the zero Fault: a mistake
	faultStatus                    // FailWith
	faultDelay                     // Delay
	faultDrop                      // DropAfter
	faultTruncate                  // Truncate
	faultFlip                      // FlipByte
	faultThrottle                  // Throttle
)

// Fault is one misbehaviour a [Server] injects into the requests it
// matches, or the in-memory [Registry] into the calls that stand for them
// (see the package documentation), so a test can see how a client copes
// with a failing network or registry. Make one with the constructor of its effect ([FailWith],
// [Delay], [DropAfter], [Truncate], [FlipByte], [Throttle]), narrow the
// requests it applies to with [Fault.On] and [Fault.In], and limit how
// often it fires with [Fault.Times] and [Fault.Every]:
//
//	srv := fake.Serve(t, fake.WithFaults(
//		fake.FailWith(503).On("GET", fake.RouteBlob).Times(2), // two 503s, then blobs flow
//		fake.DropAfter(1<<10).On("GET", fake.RouteBlob).In("app").Every(3),
//	))
//
// Constructors rather than a struct literal, because a fault has exactly
// one effect: each constructor names it, so no combination of fields can
// be contradictory (a status and a dropped connection) and an offset of 0
// is as expressible as any other. The modifiers only narrow when the effect
// applies. A Fault is a value: each modifier returns a changed copy, so one
// fault can be the base of several.
//
// Every fault a request matches counts it, and all those that fire on it
// apply, in their order: the delays, then the first status, with the body
// faults in the way of the body.
//
// A Fault with no constructor (the zero Fault) does nothing, and
// [WithFaults] and [Server.SetFaults] panic on it, as they do on invalid
// arguments: these are mistakes in a test. [Fault.String] describes a
// fault; the request log names the faults that applied to each request
// ([Request.Fault]).
type Fault struct {
	kind   faultKind
	method string // "": any
	route  Route  // "": any
	repo   string // "": any
	every  int    // fire on every every-th match; 0 and 1: on every match
	times  int    // fire at most times times; 0: no limit

	status     int           // faultStatus
	retryAfter time.Duration // faultStatus: the Retry-After header, if positive
	delay      time.Duration // faultDelay
	n          int64         // faultDrop, faultTruncate: bytes kept; faultFlip: offset; faultThrottle: bytes per second
}

// FailWith answers matching requests with status (400 to 599) and an error
// body of the OCI distribution spec, with the code that fits the status and
// route: TOOMANYREQUESTS for 429, UNAVAILABLE for 503, BLOB_UNKNOWN for a
// 404 on a blob, and so on (UNKNOWN where none fits). The request is not
// served: nothing changes on the registry. A 401 comes without a
// challenge. Add a Retry-After header with [Fault.RetryAfter]. FailWith
// panics if status is out of range.
func FailWith(status int) Fault {
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("fake: FailWith(%d): the status must be from 400 to 599", status))
	}
	return Fault{kind: faultStatus, status: status}
}

// Delay waits d before the request is served (or refused by another fault
// or by authentication), as a slow network or an overloaded registry would;
// the request log's [Request.Duration] includes it. The wait ends early if
// the client goes away. Delay panics if d is negative.
func Delay(d time.Duration) Fault {
	if d < 0 {
		panic(fmt.Sprintf("fake: Delay(%v): negative duration", d))
	}
	return Fault{kind: faultDelay, delay: d}
}

// DropAfter resets the connection (TCP RST) once n bytes of the body went
// through, so the client sees "connection reset by peer". The body is the
// request's for requests that carry one (uploads), the response's for
// GETs; this fault, like [Truncate], [FlipByte] and [Throttle], does not
// match other requests (HEAD, DELETE, a POST without a body), so that
// [Fault.Times] counts only requests it can act on. A response's headers
// are sent before the cut. A body of n bytes or fewer goes through whole.
// DropAfter panics if n is negative.
func DropAfter(n int64) Fault {
	if n < 0 {
		panic(fmt.Sprintf("fake: DropAfter(%d): negative size", n))
	}
	return Fault{kind: faultDrop, n: n}
}

// Truncate ends the body after n bytes. A response keeps its headers,
// Content-Length included, and the connection is closed after the n bytes
// (TCP FIN), so the client sees an unexpected EOF; a request body looks to
// the registry as if the client had stopped sending (an unexpected EOF),
// and the registry answers with an error. The body is chosen as for
// [DropAfter], and one of n bytes or fewer goes through whole. Truncate
// panics if n is negative.
func Truncate(n int64) Fault {
	if n < 0 {
		panic(fmt.Sprintf("fake: Truncate(%d): negative size", n))
	}
	return Fault{kind: faultTruncate, n: n}
}

// FlipByte inverts every bit of the byte at offset off of the body (chosen
// as for [DropAfter]) on its way through, leaving its length alone: a
// response carries bytes that no longer match their digest, and an upload
// reaches the registry corrupted, which then refuses it with
// DIGEST_INVALID. The stored bytes never change. FlipByte panics if off is
// negative.
func FlipByte(off int64) Fault {
	if off < 0 {
		panic(fmt.Sprintf("fake: FlipByte(%d): negative offset", off))
	}
	return Fault{kind: faultFlip, n: off}
}

// Throttle moves the body (chosen as for [DropAfter]) at about
// bytesPerSecond: the registry reads an upload slowly, or sends a response
// in small flushed pieces, a twentieth of the rate at a time. Throttle
// panics unless bytesPerSecond is positive.
func Throttle(bytesPerSecond int64) Fault {
	if bytesPerSecond <= 0 {
		panic(fmt.Sprintf("fake: Throttle(%d): the rate must be positive", bytesPerSecond))
	}
	return Fault{kind: faultThrottle, n: bytesPerSecond}
}

// On restricts f to requests with method ("GET", "PUT"…; "" for any) to
// route ("" for any). HEAD is a method of its own: a fault on GET does not
// apply to HEAD.
func (f Fault) On(method string, route Route) Fault {
	f.method, f.route = strings.ToUpper(method), route
	return f
}

// In restricts f to requests that name the repository repo, or, with ""
// (the default), lifts the restriction. Requests that name no repository
// (the version check, the catalog, the token endpoint) never match a
// fault restricted to one.
func (f Fault) In(repo string) Fault {
	f.repo = repo
	return f
}

// Times makes f fire on at most n of the requests it matches (counted
// after [Fault.Every]), so that a client that retries gets through: with
// Times(2), the third matching request is served normally. 0, the default,
// means no limit. Times panics if n is negative.
func (f Fault) Times(n int) Fault {
	if n < 0 {
		panic(fmt.Sprintf("fake: Fault.Times(%d): negative count", n))
	}
	f.times = n
	return f
}

// Every makes f fire on every n-th request it matches only: the n-th, the
// 2n-th, and so on. 0 and 1, the default, mean every matching request.
// Every panics if n is negative.
func (f Fault) Every(n int) Fault {
	if n < 0 {
		panic(fmt.Sprintf("fake: Fault.Every(%d): negative count", n))
	}
	f.every = n
	return f
}

// RetryAfter adds a Retry-After header of d, in whole seconds rounded up,
// to the answers of a [FailWith] fault, as registries send with 429 and
// 503. It panics on other faults and on a negative d.
func (f Fault) RetryAfter(d time.Duration) Fault {
	if f.kind != faultStatus || d < 0 {
		panic(fmt.Sprintf("fake: %v: RetryAfter(%v) needs a FailWith fault and a duration >= 0", f, d))
	}
	f.retryAfter = d
	return f
}

// String describes f: its effect, then the requests it applies to and how
// often, as in "status 503 on GET blob, 2 times".
func (f Fault) String() string {
	var b strings.Builder
	switch f.kind {
	case faultStatus:
		fmt.Fprintf(&b, "status %d", f.status)
		if f.retryAfter > 0 {
			fmt.Fprintf(&b, " (Retry-After %s)", retryAfterValue(f.retryAfter))
		}
	case faultDelay:
		fmt.Fprintf(&b, "delay %v", f.delay)
	case faultDrop:
		fmt.Fprintf(&b, "drop after %d bytes", f.n)
	case faultTruncate:
		fmt.Fprintf(&b, "truncate after %d bytes", f.n)
	case faultFlip:
		fmt.Fprintf(&b, "flip byte %d", f.n)
	case faultThrottle:
		fmt.Fprintf(&b, "throttle %d B/s", f.n)
	default:
		b.WriteString("no fault")
	}
	if f.method != "" || f.route != "" {
		b.WriteString(" on " + strings.TrimSpace(f.method+" "+string(f.route)))
	}
	if f.repo != "" {
		fmt.Fprintf(&b, " in %q", f.repo)
	}
	if f.every > 1 {
		fmt.Fprintf(&b, ", every %d requests", f.every)
	}
	switch {
	case f.times == 1:
		b.WriteString(", once")
	case f.times > 1:
		fmt.Fprintf(&b, ", %d times", f.times)
	}
	return b.String()
}

// retryAfterValue formats d as a Retry-After header: whole seconds,
// rounded up.
func retryAfterValue(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// matches reports whether f applies to a request with method to route of
// repository repo; hasBody says whether the request has a body. A body
// fault applies only where there is a body to act on: a request's, or the
// response's to a GET.
func (f Fault) matches(method string, rt Route, repo string, hasBody bool) bool {
	return (f.method == "" || f.method == method) &&
		(f.route == "" || f.route == rt) &&
		(f.repo == "" || f.repo == repo) &&
		(!f.body() || hasBody || method == http.MethodGet)
}

// body reports whether f acts on a body.
func (f Fault) body() bool {
	switch f.kind {
	case faultDrop, faultTruncate, faultFlip, faultThrottle:
		return true
	}
	return false
}

// WithFaults makes the server inject faults from its first request on;
// [Server.SetFaults] changes them later. Several WithFaults add up. It
// panics, when the server is made, on a zero Fault.
func WithFaults(faults ...Fault) ServerOption {
	return func(c *serverConfig) {
		if err := checkFaults(faults); err != nil {
			c.conflicts = append(c.conflicts, "WithFaults: "+err.Error())
		}
		c.faults = append(c.faults, faults...)
	}
}

// SetFaults replaces the server's faults, from the next request on, and
// restarts their counts ([Fault.Times], [Fault.Every]); SetFaults() with
// none ends fault injection. Requests under way keep the faults they got.
// It is safe to call while the server serves, and panics on a zero Fault.
func (s *Server) SetFaults(faults ...Fault) {
	if err := checkFaults(faults); err != nil {
		panic("fake: SetFaults: " + err.Error())
	}
	s.faults.set(faults)
}

func checkFaults(faults []Fault) error {
	for i, f := range faults {
		if f.kind == faultNone {
			return fmt.Errorf("fault %d is the zero Fault: make faults with FailWith, Delay, DropAfter, Truncate, FlipByte or Throttle", i)
		}
	}
	return nil
}

// faultSet is a server's faults and their counts. Its zero value injects
// nothing.
type faultSet struct {
	mu     sync.Mutex
	faults []faultCount
}

// faultCount is a fault and how often it matched and fired.
type faultCount struct {
	Fault
	seen, fired int
}

func (fs *faultSet) set(faults []Fault) {
	counts := make([]faultCount, len(faults))
	for i, f := range faults {
		counts[i] = faultCount{Fault: f}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults = counts
}

// fire counts a request against every fault it matches (see
// [Fault.matches]), and returns those that fire on it, in their order.
func (fs *faultSet) fire(method string, rt Route, repo string, hasBody bool) []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var fired []Fault
	for i := range fs.faults {
		fc := &fs.faults[i]
		if !fc.matches(method, rt, repo, hasBody) {
			continue
		}
		fc.seen++
		if fc.every > 1 && fc.seen%fc.every != 0 {
			continue
		}
		if fc.times > 0 && fc.fired >= fc.times {
			continue
		}
		fc.fired++
		fired = append(fired, fc.Fault)
	}
	return fired
}
