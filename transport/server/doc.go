// Package server serves any [transport.Transport] as the OCI distribution
// API over HTTP.
//
// [NewHandler] turns a Transport into an [net/http.Handler]: over the
// in-memory store of [github.com/regkit/regkit/registry/fake] it is a fake
// registry that real clients (docker, skopeo, crane, oras) can use; over a
// directory of OCI layouts it serves images from disk; over
// [github.com/regkit/regkit/transport/remote] it is a proxy. Requests are
// parsed once, by [github.com/regkit/regkit/internal/route], and every
// decision reads that one parse.
//
// [New] wraps a Handler in an [net/http.Server] whose timeouts cut off
// clients that hold connections without sending; the Handler itself bounds
// how long a request body may stall ([WithBodyTimeout]) and how long a
// request waits for a busy upload session ([WithSessionWait]).
//
// Errors of the backend become the spec's JSON error bodies and status
// codes: a [*transport.Error] or a bare [transport.Code] (a sentinel such
// as [transport.ErrDenied]) keeps its code, and the body carries its
// message (followed by its cause's, if any) and detail; anything else is a
// 500 that is logged ([WithLogger]).
package server
