package remote

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Option configures a [Client]; pass them to [New].
type Option func(*clientOptions) error

// TLSMode says how a [Client] speaks to its registry: over HTTPS, checking
// the certificate or not, or over plain HTTP.
type TLSMode int

const (
	// TLSDefault uses HTTPS with certificate verification, except for
	// loopback registries (localhost, 127.0.0.0/8 and ::1), which it
	// reaches over plain HTTP, as docker does.
	TLSDefault TLSMode = iota
	// TLSVerify uses HTTPS with certificate verification, loopback
	// included.
	TLSVerify
	// TLSSkipVerify uses HTTPS without verifying the certificate. It needs
	// the client's own round tripper: it conflicts with
	// [WithRoundTripper].
	TLSSkipVerify
	// TLSOff uses plain HTTP.
	TLSOff
)

// String returns the mode's name, as in "TLSSkipVerify".
func (m TLSMode) String() string {
	switch m {
	case TLSDefault:
		return "TLSDefault"
	case TLSVerify:
		return "TLSVerify"
	case TLSSkipVerify:
		return "TLSSkipVerify"
	case TLSOff:
		return "TLSOff"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// The defaults of a [Client].
const (
	defaultUserAgent       = "regkit"
	defaultMaxManifestSize = 4 << 20
	defaultChunkSize       = 64 << 20
	defaultSinglePOSTMax   = 1 << 20
	defaultMaxConcurrent   = 8
)

type clientOptions struct {
	rt             http.RoundTripper
	redirectRT     http.RoundTripper
	middleware     []Middleware
	maxConcurrent  int
	redirectPolicy func(req *http.Request, via []*http.Request) error
	tls            TLSMode
	userAgent      string
	maxManifest    int64
	maxList        int64
	maxListEntries int
	chunkSize      int64
	chunkKnown     bool // WithChunkSize was given: chunk blobs of known size too
	singlePOSTMax  int64
	retry          RetryPolicy
	logger         *slog.Logger
}

var errNilRoundTripper = errors.New("remote: WithRoundTripper(nil)")

// WithRoundTripper sets the round tripper every request goes through: the
// base transport that auth, proxies, retries or tracing wrap. It is used as
// it is, never wrapped behind the caller's back. nil is an error.
//
// It carries only requests to the registry's own scheme, host and port, so
// it may add credentials to every request it sees. Redirects to other hosts
// go through the round tripper of [WithRedirectRoundTripper].
//
// By default each Client gets a fresh clone of [http.DefaultTransport] with
// MaxIdleConnsPerHost set to 32, shared with no other Client.
func WithRoundTripper(rt http.RoundTripper) Option {
	return func(o *clientOptions) error {
		if rt == nil {
			return errNilRoundTripper
		}
		o.rt = rt
		return nil
	}
}

// Middleware wraps the round tripper of the requests to the registry host:
// authentication (see github.com/regkit/regkit/registry.WithAuth), retries,
// tracing. host is the host the client was made for, as given to
// [New]; next is the round tripper to send through.
type Middleware func(host string, next http.RoundTripper) http.RoundTripper

// WithMiddleware wraps the registry's round tripper (the client's own, or
// that of [WithRoundTripper]) in m. Several wrap in the order given: the
// first is the outermost and sees each request first. Redirects to other
// hosts do not go through middleware. A nil m is an error.
func WithMiddleware(m Middleware) Option {
	return func(o *clientOptions) error {
		if m == nil {
			return errors.New("remote: WithMiddleware(nil)")
		}
		o.middleware = append(o.middleware, m)
		return nil
	}
}

// WithRedirectRoundTripper sets the round tripper of requests to hosts
// other than the registry: blob GETs the registry redirects to object
// storage or a CDN. It must not add credentials of the registry. nil is an
// error.
//
// By default it is the client's own transport when [WithRoundTripper] is
// not given, and otherwise a fresh clone of [http.DefaultTransport] (which
// honours the proxy environment variables).
func WithRedirectRoundTripper(rt http.RoundTripper) Option {
	return func(o *clientOptions) error {
		if rt == nil {
			return errors.New("remote: WithRedirectRoundTripper(nil)")
		}
		o.redirectRT = rt
		return nil
	}
}

// WithMaxConcurrency sets how many blob transfers (uploads, downloads,
// mounts) push and copy run at once against the registry, across every
// operation that uses the client (see [transport.Limiter]). n == 0 means
// the default, 8; there is always a bound, so negative n is an error.
func WithMaxConcurrency(n int) Option {
	return func(o *clientOptions) error {
		if n < 0 {
			return fmt.Errorf("remote: WithMaxConcurrency(%d): must not be negative", n)
		}
		if n == 0 {
			return nil
		}
		o.maxConcurrent = n
		return nil
	}
}

// WithRedirectPolicy has policy decide on every redirect of a blob GET or
// HEAD to a host other than the registry (object storage, a CDN), in place
// of [DefaultRedirectPolicy]: req is the request about to be sent, via the
// requests so far, oldest first. An error refuses the redirect, and the
// request fails with it. Use it for an allow-list of blob hosts, to let a
// private registry send the client to private object storage, or to
// observe every redirect in a test; call DefaultRedirectPolicy from it to
// keep its rule.
//
// The client's own rules come first and cannot be relaxed: uploads and
// requests other than GET and HEAD never leave the registry's origin, at
// most 10 redirects are followed, and no credentials go along. nil is an
// error.
func WithRedirectPolicy(policy func(req *http.Request, via []*http.Request) error) Option {
	return func(o *clientOptions) error {
		if policy == nil {
			return errors.New("remote: WithRedirectPolicy(nil)")
		}
		o.redirectPolicy = policy
		return nil
	}
}

// WithTLS sets how the client reaches the registry. The default is
// [TLSDefault].
func WithTLS(m TLSMode) Option {
	return func(o *clientOptions) error {
		if m < TLSDefault || m > TLSOff {
			return fmt.Errorf("remote: WithTLS(%v): unknown mode", m)
		}
		o.tls = m
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request. The default is
// "regkit"; an empty string is an error.
func WithUserAgent(ua string) Option {
	return func(o *clientOptions) error {
		if ua == "" {
			return errors.New("remote: WithUserAgent(\"\")")
		}
		o.userAgent = ua
		return nil
	}
}

// WithMaxManifestSize sets the size of the largest manifest (or referrers
// list) the client reads, in bytes. A larger one is refused with
// [transport.ErrManifestInvalid], without reading more than n+1 bytes of it. The
// default is 4 MiB, the limit registries commonly enforce, and n == 0
// means it; the client always bounds what it reads, so negative n is an
// error.
func WithMaxManifestSize(n int64) Option {
	return func(o *clientOptions) error {
		if n < 0 {
			return fmt.Errorf("remote: WithMaxManifestSize(%d): must not be negative", n)
		}
		if n == 0 {
			return nil
		}
		o.maxManifest = n
		return nil
	}
}

// WithMaxListSize sets the size of the largest page of tags or of the
// catalog the client reads, in bytes once decompressed: a registry that
// sends a page gzip-compressed cannot make the client hold more. A larger
// page fails with a [*transport.LimitError] without more than n+1 bytes read. The
// default is [DefaultMaxListSize], 32 MiB, and n == 0 means it; negative
// n is an error. Pages of
// referrers are manifests: see [WithMaxManifestSize].
func WithMaxListSize(n int64) Option {
	return func(o *clientOptions) error {
		if n < 0 {
			return fmt.Errorf("remote: WithMaxListSize(%d): must not be negative", n)
		}
		if n == 0 {
			return nil
		}
		o.maxList = n
		return nil
	}
}

// WithMaxListEntries sets the most tags or repositories the client takes
// from one page. A page with more fails with a [*transport.LimitError]; the client
// counts the entries before it decodes any, and stops at the first past n,
// so that a page of many tiny entries costs no more than n. The default
// is [DefaultMaxListEntries], 1,000,000, and n == 0 means it; negative n
// is an error.
func WithMaxListEntries(n int) Option {
	return func(o *clientOptions) error {
		if n < 0 {
			return fmt.Errorf("remote: WithMaxListEntries(%d): must not be negative", n)
		}
		if n == 0 {
			return nil
		}
		o.maxListEntries = n
		return nil
	}
}

// WithChunkSize sets the size of the chunks (PATCH requests) of uploads,
// and cuts blobs of known size larger than n into such chunks too. By
// default a blob of known size goes in one streamed PUT, whatever its size
// (the fewest requests, and as fast as it gets), and only a blob of unknown
// size is cut, into chunks of 64 MiB, as are the writes of a [transport.BlobWriter]. Set it for a registry, or a proxy in
// front of one, that caps the size of a request body. A registry that asks
// for larger chunks (OCI-Chunk-Min-Length) gets them, except where the
// client holds a chunk in memory: an upload of unknown size, and a
// [transport.BlobWriter], hold up to one chunk, and fail with a [*transport.LimitError] when the
// registry asks for chunks larger than [DefaultMaxChunkMin] or n, whichever
// is larger. n == 0 means the default; negative n is an error.
func WithChunkSize(n int64) Option {
	return func(o *clientOptions) error {
		if n < 0 {
			return fmt.Errorf("remote: WithChunkSize(%d): must not be negative", n)
		}
		if n == 0 {
			return nil
		}
		o.chunkSize, o.chunkKnown = n, true
		return nil
	}
}

// WithSinglePOSTMax sets the size of the largest blob the client uploads
// with one POST request (the spec's single-POST monolithic upload), held in
// memory for it. It is used only where the registry cannot tell whether it
// already has the blob in the same request (see [Client.PutBlob]). The
// default is 1 MiB, and n == 0 means it; negative n turns single-POST
// uploads off.
func WithSinglePOSTMax(n int64) Option {
	return func(o *clientOptions) error {
		switch {
		case n < 0:
			o.singlePOSTMax = 0
		case n > 0:
			o.singlePOSTMax = n
		}
		return nil
	}
}

// WithLogger has the client log to l: each request at Debug level (method,
// URL, status, duration, attempt), each retry at Info, and each retry it
// gives up because the registry asks to wait too long at Warn. URLs are
// redacted as in [ResponseError]; no header is logged, so neither are
// credentials. By default the client logs nothing; a nil l is an error.
func WithLogger(l *slog.Logger) Option {
	return func(o *clientOptions) error {
		if l == nil {
			return errors.New("remote: WithLogger(nil)")
		}
		o.logger = l
		return nil
	}
}
