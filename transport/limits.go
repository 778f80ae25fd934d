package transport

import (
	"fmt"
	"strings"
	"time"
)

// DefaultMaxPages is the most pages a listing (tags, repositories,
// referrers) fetches when the caller sets no limit: 10,000, as many as
// a registry that pages 100 entries at a time needs for a million.
const DefaultMaxPages = 10_000

// ErrLimitExceeded is matched with [errors.Is] by every [*LimitError]: an
// answer of the registry, or a walk over what it holds, went past one of
// regkit's limits.
const ErrLimitExceeded = sentinel("limit exceeded")

// ErrPageLoop says a registry's next-page link led back to a page the
// listing had already fetched: followed, it would list forever.
const ErrPageLoop = sentinel("next page link loops back to a page already listed")

// LimitError says an answer of the registry, or a walk over what it holds
// (a listing, Copy's plan, a challenge's scopes), went past one of regkit's
// limits, which bound the memory and the requests a registry can make a
// caller spend whatever it sends. The operation stopped there, having read
// no more than the limit (a byte or an entry past it). It matches
// [ErrLimitExceeded] with [errors.Is], and [ErrTooManyPages] when the
// limit is on pages. It is no transient error: it is never retried.
type LimitError struct {
	// What says what went past the limit: "tags page", "referrers of
	// sha256:…", "chunk minimum (OCI-Chunk-Min-Length) of the registry".
	What string
	// Unit is what the limit counts: "bytes", "entries", "pages",
	// "referrers", "manifests" or "levels".
	Unit string
	// Limit is the limit, in Unit.
	Limit int64
	// Got is how much the registry asked for or sent, when it said so (a
	// Content-Length, a header); 0 when the client stopped reading at the
	// limit.
	Got int64
	// Option names the setting that raises the limit, if there is one.
	Option string
}

// Error says what went past which limit, and how to raise it, as in `tags
// page: more than 1000000 entries, the client's limit (raise it with
// WithMaxListEntries)`.
func (e *LimitError) Error() string {
	var s string
	if e.Got > 0 {
		s = fmt.Sprintf("%s: %d %s, more than the client's limit of %d", e.What, e.Got, e.Unit, e.Limit)
	} else {
		s = fmt.Sprintf("%s: more than %d %s, the client's limit", e.What, e.Limit, e.Unit)
	}
	if e.Option != "" {
		s += " (raise it with " + e.Option + ")"
	}
	return s
}

// Is reports whether target is [ErrLimitExceeded], or [ErrTooManyPages]
// for a limit on pages.
func (e *LimitError) Is(target error) bool {
	return target == ErrLimitExceeded || (target == ErrTooManyPages && e.Unit == "pages")
}

// RateLimitError is what a [github.com/regkit/regkit/transport/remote.Client] returns when the registry kept
// answering 429 Too Many Requests: it retried as its [github.com/regkit/regkit/transport/remote.RetryPolicy] allows,
// or not at all because the registry asked for a wait longer than MaxWait
// or than the context allows. It matches [ErrTooManyRequests] with
// [errors.Is], and unwraps to the [*remote.ResponseError] of the last answer.
type RateLimitError struct {
	// RetryAt is when the registry said to try again (its Retry-After
	// header), or the zero time when it did not say.
	RetryAt time.Time
	// Limit and Remaining are the requests allowed per window and those
	// left, from Docker Hub's RateLimit-Limit and RateLimit-Remaining
	// headers ("100;w=21600"), or -1 when the answer did not carry them.
	Limit, Remaining int
	// Err is the registry's answer.
	Err error
}

// Error says that the registry limits the rate, when to retry if it said,
// and its answer.
func (e *RateLimitError) Error() string {
	var b strings.Builder
	b.WriteString("rate limited")
	if !e.RetryAt.IsZero() {
		fmt.Fprintf(&b, " until %s", e.RetryAt.UTC().Format(time.RFC3339))
	}
	if e.Limit >= 0 {
		fmt.Fprintf(&b, " (%d of %d requests left)", max(e.Remaining, 0), e.Limit)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the registry's answer.
func (e *RateLimitError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrTooManyRequests].
func (e *RateLimitError) Is(target error) bool { return target == ErrTooManyRequests }
