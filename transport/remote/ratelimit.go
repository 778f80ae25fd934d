package remote

import (
	"net/http"
	"strconv"
	"strings"
)

// rateLimitSeen is a registry's rate limit, as its last answer said.
type rateLimitSeen struct{ limit, remaining int }

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
	// The keys are in canonical form (as RateLimit-Limit is read), so that
	// reading them allocates nothing.
	limit, remaining = rateLimitHeader(h, "Ratelimit-Limit"), rateLimitHeader(h, "Ratelimit-Remaining")
	if limit >= 0 {
		c.rateLimit.Store(&rateLimitSeen{limit: limit, remaining: remaining})
	}
	return limit, remaining
}

// rateLimitHeader returns the count of a rate limit header, "100" or
// "100;w=21600", or -1.
func rateLimitHeader(h http.Header, key string) int {
	v, _, _ := strings.Cut(h.Get(key), ";")
	if v = strings.TrimSpace(v); v == "" {
		return -1 // the header is missing: no error to make
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
