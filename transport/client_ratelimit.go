package transport

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimitError is what a [Client] returns when the registry kept
// answering 429 Too Many Requests: it retried as its [RetryPolicy] allows,
// or not at all because the registry asked for a wait longer than MaxWait
// or than the context allows. It matches [ErrTooManyRequests] with
// [errors.Is], and unwraps to the [*ResponseError] of the last answer.
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

// clRateLimit is a registry's rate limit, as its last answer said.
type clRateLimit struct{ limit, remaining int }

// RateLimit returns the rate limit the registry announced in its last
// answer that carried one, with Docker Hub's RateLimit-Limit and
// RateLimit-Remaining headers: the requests allowed per window and those
// left (-1 when only the limit was sent). ok is false when no answer has
// carried them. Docker Hub sends them on manifest requests, counted per
// client IP or account. It is safe for concurrent use.
func (c *Client) RateLimit() (limit, remaining int, ok bool) {
	rl := c.rateLimit.Load()
	if rl == nil {
		return 0, 0, false
	}
	return rl.limit, rl.remaining, true
}

// noteRateLimit remembers the rate limit headers of an answer, if it has
// them, and returns them (-1 for those missing).
func (c *Client) noteRateLimit(h http.Header) (limit, remaining int) {
	limit, remaining = clRateLimitHeader(h, "RateLimit-Limit"), clRateLimitHeader(h, "RateLimit-Remaining")
	if limit >= 0 {
		c.rateLimit.Store(&clRateLimit{limit: limit, remaining: remaining})
	}
	return limit, remaining
}

// clRateLimitHeader returns the count of a rate limit header, "100" or
// "100;w=21600", or -1.
func clRateLimitHeader(h http.Header, key string) int {
	v, _, _ := strings.Cut(h.Get(key), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return -1
	}
	return n
}
