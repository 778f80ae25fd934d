// Package fake is an in-memory container registry for tests and examples.
//
// [New] returns a [Registry]: the regkit object model (a
// [registry.Registry]) over a [Store], the in-memory implementation of
// [transport.Transport]. It needs no network and no disk:
//
//	reg := fake.New()
//	repo := reg.Repository("myapp1")
//	desc, err := repo.Push(ctx, img, "3.0", "latest")
//
// The Store implements the transport contract on its own, without reusing
// the client's push and pull code, so a bug cannot hide by being on both
// sides. It stores blobs once, content-addressed and shared between
// repositories, verifies every blob and manifest before it becomes visible,
// and supports sha256 and sha512 digests.
//
// Blobs larger than 1 MiB live outside the Go heap, on Linux in anonymous
// memory files (memfd_create), written and read by the kernel: they add
// nothing to the garbage collector's work or to GOMEMLIMIT's count, and a
// push of a large blob is not slowed by the first touch of fresh pages,
// which costs microseconds a page on some virtual machines. Each such blob
// takes one file descriptor while it is stored or read. Elsewhere, or when
// no file can be made, blobs stay in the heap.
//
// # Request log and faults, in memory and over HTTP
//
// [Server] serves the registry over HTTP on loopback; [Server.Registry]
// hands out a regkit registry speaking to it. Both the in-memory
// [Registry] and the Server log requests ([Registry.Requests],
// [Server.Requests]) and inject the same [Fault] values
// ([Registry.SetFaults], [Server.SetFaults]), so a unit test can run in
// memory and check what it would check over HTTP:
//
//	reg := fake.New()
//	reg.SetFaults(fake.FailWith(503).On("GET", fake.RouteBlob).Times(1))
//	_, err := reg.Repository("app").Tag("1.0").Image(ctx) // fails with UNAVAILABLE
//
// In memory, each call of the registry's transport is logged as the
// request regkit's HTTP client sends for it, with the path and the status
// the Server gives (the faults match that request, as over HTTP), and a
// fault fails or corrupts the call as the HTTP client would see it: a
// [FailWith] is the client's [*remote.ResponseError] (in a
// [*transport.RateLimitError] for 429), a cut body an unexpected EOF
// ([Truncate]) or a reset connection ([DropAfter]). Where the two differ:
//
//   - The HTTP client's version check (GET /v2/, [RoutePing]) and token
//     requests stand for no call: only the Server logs them.
//   - A blob push (PutBlob) is logged as the client's requests to a
//     registry that mounts: a POST to [RouteUpload] answered 201 when the
//     repository has the blob, else 202 and a PUT (with no session ID in
//     its path). A refused mount (MountBlob) is one POST with the status
//     of the refusal, where the client sends a DELETE and a HEAD after it.
//     The HTTP client's one HEAD per Client that learns what a 202 to a
//     mount means has no in-memory counterpart.
//   - An upload session's writes are one PATCH each; the HTTP client
//     gathers them into chunks. Its Commit is a PUT, its Cancel a DELETE.
//   - The in-memory registry has no retry policy: a fault that the HTTP
//     client would retry through (a 503, a cut GET) fails the call.
//   - A FailWith answer to HEAD carries its code; over HTTP a HEAD
//     answer has no body, so the client derives the code from the status
//     alone (none for 5xx).
//   - A GET is logged when it returns its body, before the body is read;
//     [Request.Bytes] is what the faults let through, and the User is
//     empty.
//   - A call the HTTP client refuses before sending anything (an invalid
//     repository name) is neither logged nor faulted.
package fake

import (
	"github.com/regkit/regkit/registry"
)

// Registry is the in-memory registry: a [registry.Registry] (so it has
// Repository, Repositories and the rest) over a [Store] that tests can look
// into. Like a [Server], it keeps a request log ([Registry.Requests]) and
// injects faults ([Registry.SetFaults]): its transport records each call
// as the HTTP request regkit's client sends for it, so a test can check
// the same requests and the same failures in memory as over HTTP. Calls
// made to Store directly go around both.
type Registry struct {
	*registry.Registry
	// Store is the in-memory backend the registry speaks through.
	Store *Store

	rec *memTransport
}

// New returns an empty in-memory registry, with a request log of the
// last 10,000 calls and no faults.
func New(opts ...Option) *Registry {
	s := NewStore(opts...)
	rec := newMemTransport(s)
	return &Registry{Registry: registry.FromTransport(rec), Store: s, rec: rec}
}

// Requests returns the calls the registry's transport answered so far,
// oldest first, each as the HTTP request regkit's client sends for it
// (see the package documentation for where they differ): a copy, which
// later calls do not change. It holds the last 10,000; a call is in it
// once it returned (a blob read, once GetBlob returned its reader).
func (r *Registry) Requests() []Request { return r.rec.log.all() }

// ResetRequests empties the request log, so a test can count the calls of
// one operation.
func (r *Registry) ResetRequests() { r.rec.log.reset() }

// SetFaults replaces the registry's faults, from the next call on, and
// restarts their counts, as [Server.SetFaults] does; SetFaults() with none
// ends fault injection. A fault matches the calls whose HTTP requests it
// matches over HTTP ([Fault.On] and [Fault.In]), and acts as regkit's
// HTTP client sees it act: [FailWith] returns the
// [*remote.ResponseError] of its answer (in a [*transport.RateLimitError]
// for 429), [Delay] waits (or gives up with the call's context), and the
// body faults act on the bytes of blobs and manifests read and written
// through the registry. It panics on a zero Fault.
func (r *Registry) SetFaults(faults ...Fault) {
	if err := checkFaults(faults); err != nil {
		panic("fake: SetFaults: " + err.Error())
	}
	r.rec.faults.set(faults)
}
