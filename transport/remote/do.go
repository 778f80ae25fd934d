package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/regkit/regkit/transport"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// do sends r and returns the response when its status is one r wants; the
// caller closes its body. Any other status gives a *ResponseError, a 429 a
// *RateLimitError.
//
// A transient failure (see WithRetry) of a request that may be sent again
// (reqSpec.idempotent, and a body do can send again) is retried within
// the client's policy. Those it returns are a *retryError, which says
// whether the client retried (spent) and what the registry asked to wait.
func (c *Client) do(ctx context.Context, r reqSpec) (*http.Response, error) {
	body, again := requestBodies(r)
	retry := again != nil && (r.idempotent || r.method == http.MethodGet || r.method == http.MethodHead || r.method == http.MethodDelete)
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			body = again()
		}
		start := time.Now()
		resp, err := c.send(ctx, r, body)
		limit, remaining := -1, -1
		if err == nil {
			limit, remaining = c.noteRateLimit(resp.Header)
		}
		if err == nil && slices.Contains(r.want, resp.StatusCode) {
			if err = c.readBody(r, resp); err == nil {
				c.logRequest(ctx, r, attempt, resp.StatusCode, time.Since(start), nil)
				return resp, nil
			}
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		var after time.Duration
		hasAfter := false
		if err == nil {
			after, hasAfter = retryAfter(resp.Header, time.Now())
			rerr := responseError(resp, r.notFound)
			err = rerr
			if status == http.StatusTooManyRequests {
				rl := &transport.RateLimitError{Limit: limit, Remaining: remaining, Err: rerr}
				if hasAfter {
					rl.RetryAt = time.Now().Add(after)
				}
				err = rl
			}
		}
		c.logRequest(ctx, r, attempt, status, time.Since(start), err)
		if ctx.Err() != nil || !isTransient(err) {
			return nil, err
		}
		err = &retryError{err: err, after: after, hasAfter: hasAfter}
		if !retry {
			return nil, err
		}
		if err := c.pause(ctx, r.what(), attempt, err); err != nil {
			return nil, err
		}
	}
}

// what names r in logs and errors: its method and redacted URL. It is
// made when a log or an error needs it, not for every request.
func (r reqSpec) what() string {
	return r.method + " " + redact(r.url)
}

// send sends r once, with body.
func (c *Client) send(ctx context.Context, r reqSpec, body io.Reader) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	// The request takes a copy of r.url as it is: its string would only be
	// parsed back into the same URL. An empty port goes, as
	// http.NewRequest drops it.
	req, err := http.NewRequestWithContext(ctx, r.method, "", body)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("%s %s: %w", r.method, redact(r.url), err)
	}
	*req.URL = *r.url
	req.URL.Host = strings.TrimSuffix(req.URL.Host, ":")
	req.Host = req.URL.Host
	if body != http.NoBody {
		req.ContentLength = r.size
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel(nil)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", r.method, redact(r.url), err)
	}
	resp.Body = newProgressBody(resp.Body, cancel, c.bodyWindow, bodyMinimum)
	return resp, nil
}

// requestBodies returns the body of r's first attempt, and a function that
// returns it anew for another, or nil when the body cannot be sent again:
// no body, and a *bytes.Reader (bytes in memory), can; a stream cannot.
func requestBodies(r reqSpec) (first io.Reader, again func() io.Reader) {
	if r.body == nil || r.size == 0 {
		return http.NoBody, func() io.Reader { return http.NoBody }
	}
	if b, ok := r.body.(*bytes.Reader); ok {
		snap := *b // a copy reads from where b was, whatever b reads
		return b, func() io.Reader { c := snap; return &c }
	}
	return r.body, nil
}

// readBody reads resp's body into memory when r asks (r.read), unless its
// Content-Length is above the limit, which the caller refuses.
func (c *Client) readBody(r reqSpec, resp *http.Response) error {
	if r.read <= 0 || resp.ContentLength > r.read {
		return nil
	}
	buf, err := readAll(io.LimitReader(resp.Body, r.read+1), resp.ContentLength)
	_ = resp.Body.Close()
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", r.method, redact(r.url), err)
	}
	b := &buffered{buf: buf}
	b.Reset(buf)
	resp.Body = b
	return nil
}

// buffered is a response body read into memory by readBody.
type buffered struct {
	bytes.Reader
	buf []byte
}

func (*buffered) Close() error { return nil }

// readAll reads r to its end, into a buffer of size+1 bytes when size
// (a Content-Length) is known, so that a body of known size is read with
// one allocation.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// bodyBytes returns the bytes of resp's body, up to limit+1 of them:
// those readBody read, or else what it reads now.
func bodyBytes(resp *http.Response, limit int64) ([]byte, error) {
	if b, ok := resp.Body.(*buffered); ok && b.Len() == len(b.buf) {
		return b.buf[:min(int64(len(b.buf)), limit+1)], nil
	}
	return readAll(io.LimitReader(resp.Body, limit+1), min(resp.ContentLength, limit))
}

// logRequest logs one attempt of r at Debug level.
func (c *Client) logRequest(ctx context.Context, r reqSpec, attempt, status int, d time.Duration, err error) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("request", r.what()), slog.Int("status", status),
		slog.Duration("duration", d), slog.Int("attempt", attempt)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "regkit: http request", attrs...)
}

// logf logs at level, when the client has a logger.
func (c *Client) logf(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if c.log != nil {
		c.log.LogAttrs(ctx, level, msg, attrs...)
	}
}
