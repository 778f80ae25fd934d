// Package progress reports what push, pull and copy do to each blob and
// manifest: one stream of [Event] values for all three, to an observer a
// context carries ([With]). An operation takes the observer once, where it
// starts ([Take]), and what it calls inside reports nothing of its own, so
// no event reaches the observer twice.
package progress

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Kind says what happened to a blob or manifest in an [Event].
type Kind int

const (
	// BlobStarted means the blob was opened and its bytes start to move.
	BlobStarted Kind = iota + 1
	// BlobSkipped means the destination already had the blob: not a byte
	// of it was read.
	BlobSkipped
	// BlobMounted means the blob was mounted from another repository of
	// the same registry, without moving its bytes.
	BlobMounted
	// BlobBytes means more of the blob's bytes have moved; [Event.Done]
	// says how many so far.
	BlobBytes
	// BlobVerified means the blob's bytes, read to the end, match the
	// digest and size of its descriptor.
	BlobVerified
	// BlobDone means the blob is complete: stored in the destination (push,
	// copy), or read to its verified end (pull).
	BlobDone
	// ManifestDone means a manifest was stored (push, copy) or fetched and
	// verified (pull).
	ManifestDone
)

// String returns "blob started", "blob skipped", "blob mounted", "blob
// bytes", "blob verified", "blob done" or "manifest done".
func (k Kind) String() string {
	switch k {
	case BlobStarted:
		return "blob started"
	case BlobSkipped:
		return "blob skipped"
	case BlobMounted:
		return "blob mounted"
	case BlobBytes:
		return "blob bytes"
	case BlobVerified:
		return "blob verified"
	case BlobDone:
		return "blob done"
	case ManifestDone:
		return "manifest done"
	}
	return "unknown"
}

// Event is one event of the progress of a push, a pull or a copy: what
// happened (Kind) to which blob or manifest (Descriptor) of which
// repository. See [With].
type Event struct {
	// Kind says what happened.
	Kind Kind
	// Repository is the name of the repository written to (push, copy) or
	// read from (pull).
	Repository string
	// Descriptor describes the blob or manifest; its Size is the total
	// number of bytes to move.
	Descriptor ocispec.Descriptor
	// Done is the number of bytes of the blob moved so far: 0 for
	// BlobStarted, BlobSkipped and BlobMounted, all of them for
	// BlobVerified and BlobDone. For ManifestDone it is the manifest's size.
	Done int64
}

// progressKey is the context key of the observer set by With.
type progressKey struct{}

// With returns a copy of ctx that carries f, the observer of the
// progress of every push, pull and copy done with it: the repository and
// Copy functions of regkit call f for each blob and manifest they move (see
// their docs for what each reports). A nil f removes the observer ctx
// carries, if any.
//
// f is called from the goroutines that move the bytes, possibly several at
// once: it must be safe for concurrent use, and return quickly, as the
// transfer waits for it.
//
// The events of one blob come in order, never two at once: BlobStarted,
// then BlobBytes events, then BlobVerified when the bytes were checked
// against the digest as they were read (pull and copy; a push is checked by
// the registry), then BlobDone; or BlobSkipped or BlobMounted alone. A
// transfer that fails stops its events where it failed, with no BlobDone:
// the operation returns the error. BlobBytes events come at most once per
// Read of the blob's stream, once at least 256 KiB have moved since the
// last event, so they cost nothing per byte; the last one, just before
// BlobVerified or BlobDone, counts every byte. Events of different blobs
// interleave.
func With(ctx context.Context, f func(Event)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// Observer receives the events of one push, pull or copy; a nil Observer
// drops them. See [With] for what it may expect.
type Observer func(Event)

// Report calls o with e, and does nothing when o is nil.
func (o Observer) Report(e Event) {
	if o != nil {
		o(e)
	}
}

// Take returns the observer ctx carries (see [With]), nil when there is
// none, and a copy of ctx without it. A push, pull or copy takes the
// observer once, where it starts, reports its events to it, and does its
// work with the context Take returns: whatever it calls inside (the pull
// of a blob that a push uploads, the fetch of a manifest that a copy
// reads) finds no observer there and reports nothing, so no event reaches
// the observer twice and no caller has to remove it by hand.
//
// It is also for implementations of push, pull or copy outside regkit
// that report their progress the way regkit does; they should keep to the
// order and throttling With describes.
func Take(ctx context.Context) (Observer, context.Context) {
	f, _ := ctx.Value(progressKey{}).(func(Event))
	if f == nil {
		return nil, ctx
	}
	return f, context.WithValue(ctx, progressKey{}, nil)
}
