package transport

import "context"

// This file holds the optional interfaces: capabilities some backends have
// beyond the [Transport] contract. Code that uses one looks for it with
// [Find], never with a type assertion on the transport it was given, so
// that a decorator which implements Unwrap() Transport keeps them (see
// [Transport]).

// maxUnwrap bounds the Unwrap chains [Find] follows, so that a decorator
// that (wrongly) unwraps to itself or to one of its wrappers cannot make it
// loop forever. No real stack of decorators is this deep.
const maxUnwrap = 64

// Find returns the first transport of t's Unwrap chain that implements T:
// t itself, else what its Unwrap() Transport method returns, and so on, as
// [errors.As] walks the chain of an error and [net/http.ResponseController]
// that of a ResponseWriter. It reports false when no layer implements T,
// when a layer's Unwrap returns nil, or after 64 layers (a chain that
// loops).
//
//	if td, ok := transport.Find[transport.TagDeleter](t); ok {
//		how, err := td.DeleteTag(ctx, repo, tag)
//		…
//	}
//
// A capability found under a decorator is called on the layer that has
// it, bypassing the decorators above it: a decorator that must see those
// calls too implements the optional interface itself, which Find then
// finds first.
func Find[T any](t Transport) (T, bool) {
	for range maxUnwrap {
		if t == nil {
			break
		}
		if v, ok := t.(T); ok {
			return v, true
		}
		t = Unwrap(t)
	}
	var zero T
	return zero, false
}

// Unwrap returns the transport t decorates, the result of its Unwrap()
// Transport method, or nil when t has no such method.
func Unwrap(t Transport) Transport {
	u, ok := t.(interface{ Unwrap() Transport })
	if !ok {
		return nil
	}
	return u.Unwrap()
}

// Retrier is an optional interface of a [Transport] that has a retry
// policy of its own, such as the HTTP client's (see
// [github.com/regkit/regkit/transport/remote.WithRetry]). Callers use it
// through [Retry].
type Retrier interface {
	// Retry runs op, which does something with the transport from the
	// start (such as uploading a blob from a reader it opens), and runs it
	// again while it fails transiently, within the transport's policy: its
	// number of attempts, its backoff between them, the waits the registry
	// asked for; each wait is bounded by ctx. It returns the error of the
	// last run. What counts as transient is the transport's to decide, since
	// it made the error: an error the transport already retried on its own
	// is not retried again.
	Retry(ctx context.Context, op func() error) error
}

// Retry runs op under the retry policy of t: with the first [Retrier] of
// t's Unwrap chain (see [Find]), or once when there is none (an in-process
// backend has no transient failures to wait out). The push and copy of the
// repository and root packages start a failed blob upload again this way.
func Retry(ctx context.Context, t Transport, op func() error) error {
	if r, ok := Find[Retrier](t); ok {
		return r.Retry(ctx, op)
	}
	return op()
}

// Limiter is an optional interface of a [Transport] that bounds how many
// blob transfers run at once against its registry. Push and Copy take a
// slot for each blob they move, so the bound holds across every operation
// that goes through the transport, decorated or not. The HTTP client
// implements it (see
// [github.com/regkit/regkit/transport/remote.WithMaxConcurrency]);
// implementations are pointer types, so that two decorators of one client
// share its slots.
type Limiter interface {
	// Acquire waits for a free slot, or fails with ctx's error. release
	// frees the slot; it must be called exactly once.
	Acquire(ctx context.Context) (release func(), err error)
}

// Originer is an optional interface of a [Transport] that reaches a
// registry others can reach too, such as the HTTP client. Copy uses it to
// decide that a source and a destination are the same registry, so that
// blobs are mounted from one repository into the other instead of being
// downloaded and uploaded again.
type Originer interface {
	// Origin identifies the registry the transport reaches, as a web
	// origin does: "https://registry-1.docker.io" (scheme, host and port,
	// lowercase). Two transports with equal origins promise that a blob of
	// one can be mounted into a repository of the other
	// ([BlobPusher.MountBlob]) without moving its bytes; they may still
	// hold different credentials, so a mount may be refused, and the
	// caller then copies.
	Origin() string
}

// IdleCloser is an optional interface of a [Transport] that keeps network
// connections open for reuse, such as the HTTP client.
type IdleCloser interface {
	// CloseIdleConnections closes the connections no request is using now.
	// The transport stays usable: later requests open new connections.
	CloseIdleConnections()
}

// TagDeleter is an optional interface of a [Transport] that can delete a tag
// even where the registry has no tag DELETE, and says how it did it.
type TagDeleter interface {
	// DeleteTag removes tag from repo without touching other tags that
	// point at the same manifest.
	DeleteTag(ctx context.Context, repo, tag string) (TagDeletion, error)
}

// TagDeletion says how a tag was deleted.
type TagDeletion int

const (
	// TagDeleted means the registry deleted the tag itself.
	TagDeleted TagDeletion = iota + 1
	// TagDeletedByPlaceholder means the registry has no tag DELETE: the tag
	// was first pointed at a small placeholder manifest of its own, which
	// was then deleted by digest, taking the tag with it.
	TagDeletedByPlaceholder
)

// String returns "deleted" or "deleted by placeholder".
func (d TagDeletion) String() string {
	switch d {
	case TagDeleted:
		return "deleted"
	case TagDeletedByPlaceholder:
		return "deleted by placeholder"
	}
	return "unknown"
}

// The optional interfaces of a [BlobWriter] are asserted on the writer
// itself: a decorator of a writer sees the bytes written through it, so it
// implements them itself (passing them on) when the writer it wraps does.

// Flusher is an optional interface of a [BlobWriter] that holds written
// bytes back (the HTTP client's does, to send chunks of the size its
// registry demands). [github.com/regkit/regkit/transport/server.Handler]
// flushes such a writer after each chunk it serves, since the writer, and
// what it holds, is gone when that request ends.
type Flusher interface {
	// Flush stores what the writer holds back in the session now, so
	// that Size counts it. It returns the error of doing so; the writer is
	// then no longer usable.
	Flush() error
}

// BlobTruncater is an optional interface of a [BlobWriter] that can drop the
// bytes written after a point.
// [github.com/regkit/regkit/transport/server.Handler] uses it to undo a
// chunk it refuses (its body is shorter or longer than its Content-Range
// says, it breaks off, or the backend refuses a write), so that the session
// holds exactly what it held before the chunk and the client can send the
// chunk again. Without it, a refused chunk leaves in the session what was
// written of it.
type BlobTruncater interface {
	// Truncate drops every byte after the first size, so that the session
	// holds what it held when its Size was size; a later Commit covers only
	// the bytes kept. size must be between 0 and Size.
	Truncate(size int64) error
}

// TagBatcher is an optional interface of a [Transport] whose tag writes
// cost more than a request each, such as an OCI layout on disk, which
// rewrites its whole index.json for every tag. Code that sets many tags of
// one repository in one go (Mirror, the Copy of an index) runs its puts in
// a batch, so that the transport pays that cost once.
type TagBatcher interface {
	// Batch runs f with a context under which the manifest puts to repo
	// through the transport store their manifest at once but may record
	// their tags (and untagged listings) later, all together, when f
	// returns: whether f fails or not, every put that returned nil is then
	// listed, unless Batch returns an error. Until then, reads need not
	// see those tags. A batch within a batch of the same repository is
	// part of it.
	Batch(ctx context.Context, repo string, f func(ctx context.Context) error) error
}
