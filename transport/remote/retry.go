package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/regkit/regkit/transport"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy says how a [Client] retries what failed transiently (see
// [WithRetry] for what that is). Its zero fields take the defaults.
//
// The wait before the k-th retry is a random duration between zero and
// min(MaxBackoff, Backoff·2^(k-1)) ("full jitter"), unless the registry
// said how long to wait with a Retry-After header: then that long, or not
// at all when it is longer than MaxWait or than the context allows.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most, the first
	// time included; 1 turns retries off. If zero, 4.
	MaxAttempts int
	// Backoff is the longest wait before the first retry; it doubles for
	// each retry after it. If zero, 100ms.
	Backoff time.Duration
	// MaxBackoff caps the backoff. If zero, 5s.
	MaxBackoff time.Duration
	// MaxWait is the longest wait the registry may ask for with
	// Retry-After: asked to wait longer, the client gives up at once (with
	// a [*transport.RateLimitError] for a 429). If zero, 1 minute.
	MaxWait time.Duration
}

// The defaults of a [RetryPolicy].
const (
	defaultMaxAttempts = 4
	defaultBackoff     = 100 * time.Millisecond
	defaultMaxBackoff  = 5 * time.Second
	defaultMaxWait     = time.Minute
)

// withDefaults returns p with its zero fields set to the defaults.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.Backoff == 0 {
		p.Backoff = defaultBackoff
		if p.MaxBackoff > 0 {
			p.Backoff = min(p.Backoff, p.MaxBackoff)
		}
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = max(defaultMaxBackoff, p.Backoff)
	}
	if p.MaxWait == 0 {
		p.MaxWait = defaultMaxWait
	}
	return p
}

// WithRetry sets how the client retries what failed transiently. By
// default it retries as the zero [RetryPolicy] says (4 attempts, backoff
// from 100ms up to 5s, Retry-After honoured up to 1 minute);
// RetryPolicy{MaxAttempts: 1} turns retries off. Negative fields, or a
// Backoff above MaxBackoff, are an error.
//
// A request is retried when it failed transiently: the registry answered
// 429, 502, 503 or 504, or the connection broke (reset, refused, closed,
// cut short with [io.ErrUnexpectedEOF], timed out). It is not retried when
// its context is done, on TLS and certificate errors, on unknown hosts, or
// on any other status.
//
// Only requests that can be sent again unchanged are retried: GET, HEAD and
// DELETE; the POST that opens an upload session or mounts a blob (a retry
// opens a new session; the old one is abandoned); the PUT of a manifest. Of
// the bodies, those the client holds in memory are sent again; a blob
// streamed from the caller's reader is not. PATCH and PUT requests to an
// upload session are never sent again as they are:
//
//   - [Client.PutBlob] fails with an error [IsRetryable] accepts, and the
//     caller starts the upload again (see [Client.Retry]; the repository package's
//     PushBlob does that, reopening the blob). The new upload starts with a
//     mount of the blob from the repository itself, which finds the blob
//     if the upload that failed did store it after all.
//   - The [transport.BlobWriter] of [Client.StartUpload] and [Client.ResumeUpload]
//     holds its chunk in memory: after a transient failure it asks the
//     session how many bytes it holds (GET) and sends what it lacks. Its
//     Commit checks whether the registry has the blob before it closes the
//     session again.
//
// A blob read from [Client.GetBlob] resumes where its connection broke with
// Range requests, as GetBlob says; each of those requests is retried like
// any GET, and a retried request is one resume, not several. Manifests and
// list pages are read whole within their request's attempts, so that a
// body cut short is read again.
//
// A retry after an answer that was lost may find its work done: a DELETE
// retried then fails with the "unknown" error of what it deleted, and a
// conditional PUT (If-Match) with [transport.ErrPreconditionFailed].
func WithRetry(p RetryPolicy) Option {
	return func(o *clientOptions) error {
		if p.MaxAttempts < 0 || p.Backoff < 0 || p.MaxBackoff < 0 || p.MaxWait < 0 {
			return fmt.Errorf("remote: WithRetry(%+v): negative field", p)
		}
		p = p.withDefaults()
		if p.Backoff > p.MaxBackoff {
			return fmt.Errorf("remote: WithRetry: Backoff %v above MaxBackoff %v", p.Backoff, p.MaxBackoff)
		}
		o.retry = p
		return nil
	}
}

// backoff returns the wait before the retry that follows attempt (1 for the
// first): a random duration up to min(MaxBackoff, Backoff·2^(attempt-1)).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceil := p.Backoff
	for i := 1; i < attempt && ceil < p.MaxBackoff; i++ {
		ceil *= 2
	}
	ceil = max(min(ceil, p.MaxBackoff), 0)
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// IsRetryable reports whether err is a transient failure that the same
// operation may not meet again: a 429, 502, 503 or 504 answer of the
// registry, or a broken, refused or timed out connection (see [WithRetry]).
// A done context, a TLS or certificate error, an unknown host and any other
// status are not.
//
// An error a [Client] returns after it retried the request itself (more
// than one attempt), or gave up at once because the registry asked for a
// longer wait than MaxWait or the context allows, is not retryable either:
// its retry budget is spent, and retrying at once would only multiply the
// attempts. So with retries on, IsRetryable is true, from a Client, for
// errors of requests it could not send again: the PATCH and PUT requests of
// a streamed upload, which only the caller can start again (see [Client.Retry]).
// With retries off (MaxAttempts 1) it is true for every transient failure.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re *retryError
	if errors.As(err, &re) && re.spent {
		return false
	}
	return isTransient(err)
}

// Retry runs op, which does something with c from the start, such as
// uploading a blob from a reader it opens, and runs it again while it fails
// with an error [IsRetryable] accepts, within the client's [RetryPolicy]
// (see [WithRetry]): at most MaxAttempts runs, with the policy's backoff
// between them, honouring a Retry-After the last answer carried, each wait
// bounded by ctx. It makes the client a [transport.Retrier]: callers that
// hold a [transport.Transport] use [transport.Retry], which finds it
// through decorators.
//
// The error of the last run is returned; when op ran more than once, or the
// wait asked for was too long, it is marked spent (IsRetryable is false for
// it). A context done during a wait is returned with it ([errors.Is] finds
// both).
func (c *Client) Retry(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		if err := c.pause(ctx, "operation", attempt, err); err != nil {
			return err
		}
	}
}

// retryError is a transient failure that the client returns. spent says
// it retried as often as it would: it made more than one attempt, or the
// wait asked was too long. after is the wait the registry asked for with
// Retry-After, if hasAfter.
type retryError struct {
	err      error
	spent    bool
	after    time.Duration
	hasAfter bool
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// withSpent returns err marked spent when spent is true, and err otherwise.
func withSpent(err error, spent bool) error {
	if !spent {
		return err
	}
	return &retryError{err: err, spent: true}
}

// pause waits before the attempt that follows attempt of what, which failed
// with the transient err, and returns nil; or returns what to give up with:
// err marked spent when the attempts are used up, or when the registry asks
// for a wait longer than MaxWait or than ctx allows; err and the context's
// cause when ctx is done during the wait.
func (c *Client) pause(ctx context.Context, what string, attempt int, err error) error {
	p := c.retry
	if attempt >= p.MaxAttempts {
		return withSpent(err, attempt > 1)
	}
	delay := p.backoff(attempt)
	if after, ok := retryAfterOf(err); ok {
		if after > p.MaxWait {
			c.logf(ctx, slog.LevelWarn, "regkit: not retrying: the registry asks to wait too long",
				slog.String("request", what), slog.Duration("wait", after), slog.Duration("max_wait", p.MaxWait), slog.String("error", err.Error()))
			return withSpent(err, true)
		}
		delay = after
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
		c.logf(ctx, slog.LevelWarn, "regkit: not retrying: the wait would outlast the context",
			slog.String("request", what), slog.Duration("wait", delay), slog.String("error", err.Error()))
		return withSpent(err, true)
	}
	c.logf(ctx, slog.LevelInfo, "regkit: retrying",
		slog.String("request", what), slog.Int("attempt", attempt+1), slog.Duration("wait", delay), slog.String("error", err.Error()))
	if serr := c.sleep(ctx, delay); serr != nil {
		return fmt.Errorf("%w; gave up waiting to retry: %w", err, context.Cause(ctx))
	}
	return nil
}

// retryAfterOf returns the wait err says the registry asked for: its
// Retry-After, or the time to retry at of a *RateLimitError.
func retryAfterOf(err error) (time.Duration, bool) {
	var re *retryError
	if errors.As(err, &re) && re.hasAfter {
		return re.after, true
	}
	var rl *transport.RateLimitError
	if errors.As(err, &rl) && !rl.RetryAt.IsZero() {
		return max(time.Until(rl.RetryAt), 0), true
	}
	return 0, false
}

// retryStatus reports whether a status is a transient refusal: 429, 502,
// 503 or 504.
func retryStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isTransient reports whether err is a transient failure: a retry status or
// a network error that another connection may not meet.
func isTransient(err error) bool {
	var re *ResponseError
	if errors.As(err, &re) {
		return retryStatus(re.StatusCode)
	}
	var (
		own *transport. // the client's own verdict: size, digest, location
			Error
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
	)
	if errors.As(err, &own) || errors.As(err, &verify) || errors.As(err, &unknown) ||
		errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &record) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsNotFound && (dns.IsTimeout || dns.IsTemporary)
	}
	for _, target := range []error{io.ErrUnexpectedEOF, io.EOF, net.ErrClosed, syscall.ECONNRESET,
		syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT} {
		if errors.Is(err, target) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// maxRetryAfter caps the seconds of a Retry-After, far above any MaxWait.
const maxRetryAfter = 1 << 31

// retryAfter returns the wait a Retry-After header asks for, in seconds
// or as an HTTP date (RFC 9110, section 10.2.3), relative to now; a date in
// the past asks for none.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, maxRetryAfter)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
