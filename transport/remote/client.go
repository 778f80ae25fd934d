package remote

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/transport"
)

// Client is a [transport.Transport] over HTTP: it speaks the OCI distribution API
// (https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md)
// to one registry. It implements the optional interfaces [transport.Retrier],
// [transport.Limiter], [transport.Originer], [transport.IdleCloser] and
// [transport.TagDeleter] too, which code reaches through decorators that
// follow the Unwrap convention of [transport.Transport].
//
// A Client learns what its registry can do from the registry's answers and
// remembers it (the referrers API, tag DELETE, single-POST uploads, mounts
// within a repository, If-Match, Range, the chunk minimum), falling back
// to what works everywhere where a feature is missing, without asking twice.
//
// A Client does not authenticate: wrap its round tripper (see
// [WithRoundTripper]) for that. That round tripper sees only requests to the
// registry's own scheme, host and port. A blob GET redirected elsewhere
// (object storage, a CDN) goes through another, plain round tripper (see
// [WithRedirectRoundTripper]) without the Authorization header, so no
// credential the registry's round tripper adds can follow it there.
//
// Uploads stay on the registry: an upload Location, or a session id given
// to [Client.ResumeUpload], on another scheme, host or port, or outside
// /v2/<name>/blobs/uploads/, is refused with [transport.ErrBlobUploadInvalid], and so
// is a redirect of an upload, or of any request other than GET and HEAD, to
// another origin. Registries that hand out upload URLs on another host do not
// work with the client; none of the big ones do that for uploads.
//
// A Client does not verify blob bytes against their digest, which the
// layers above do while they stream; it does check every manifest it reads.
//
// A Client retries requests that failed transiently (429, 502, 503, 504, a
// broken connection) when it can send them again, with backoff and within
// the context: see [WithRetry] for what is retried and how, [IsRetryable]
// and [Client.Retry] for what is left to the caller, and [transport.RateLimitError] and
// [Client.RateLimit] for rate limits.
//
// A Client does not wait forever on a registry that stops sending: a
// response body that delivers less than 1 KiB over a minute spent waiting
// for it (a caller that reads slowly is not counted) fails with a timeout
// error, which is retried like a broken connection. Beyond that, and the
// dial and TLS handshake timeouts of its default round tripper (those of
// [http.DefaultTransport]), it waits as long as the context lets it: for
// a registry's response headers too.
//
// A Client is safe for concurrent use.
type Client struct {
	host           string
	base           url.URL // scheme and host of the API endpoint
	hc             *http.Client
	ua             string
	maxManifest    int64
	maxList        int64
	maxListEntries int
	maxChunkMin    int64
	chunkSize      int64
	chunkKnown     bool // cut blobs of known size into chunks too
	singlePOSTMax  int64
	caps           capabilities
	slots          chan struct{} // one per blob transfer under way (Acquire)
	redirectPolicy func(req *http.Request, via []*http.Request) error
	retry          RetryPolicy
	log            *slog.Logger // nil: no logging
	rateLimit      atomic.Pointer[rateLimitSeen]
	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// bodyWindow is the window over which a response body must make
	// progress (see progressBody); tests shorten it.
	bodyWindow time.Duration
}

var (
	_ transport.Transport  = (*Client)(nil)
	_ transport.TagDeleter = (*Client)(nil)
	_ transport.Limiter    = (*Client)(nil)
)

// New returns a client of the registry host: "ghcr.io",
// "localhost:5000", "127.0.0.1:36817" or "[::1]:5000". Docker Hub
// ("docker.io" or "index.docker.io") is reached at its API endpoint,
// registry-1.docker.io. host has no scheme (see [WithTLS]) and no path.
//
// New only validates and stores: it does no I/O.
//
// The client only sends uploads to the registry's own scheme, host and port
// (see [Client]): a registry that hands out upload Locations on another
// host, such as a separate upload service or object storage, is refused
// with [transport.ErrBlobUploadInvalid]. None of the big registries do that for
// uploads; blob GETs may still be redirected anywhere.
func New(host string, opts ...Option) (*Client, error) {
	if err := checkHost(host); err != nil {
		return nil, fmt.Errorf("remote.New: %w", err)
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := o.roundTrippers(host); err != nil {
		return nil, fmt.Errorf("remote.New: %w", err)
	}
	api := host
	if host == "docker.io" || host == "index.docker.io" {
		api = "registry-1.docker.io"
	}
	scheme := "https"
	if o.tls == TLSOff || (o.tls == TLSDefault && origin.IsLoopback(host)) {
		scheme = "http"
	}
	c := &Client{
		host:           host,
		base:           url.URL{Scheme: scheme, Host: api},
		ua:             o.userAgent,
		maxManifest:    o.maxManifest,
		maxList:        o.maxList,
		maxListEntries: o.maxListEntries,
		maxChunkMin:    max(DefaultMaxChunkMin, o.chunkSize),
		chunkSize:      o.chunkSize,
		chunkKnown:     o.chunkKnown,
		singlePOSTMax:  o.singlePOSTMax,
		slots:          make(chan struct{}, o.maxConcurrent),
		redirectPolicy: o.redirectPolicy,
		retry:          o.retry,
		log:            o.logger,
		sleep:          sleepCtx,
		bodyWindow:     bodyStallWindow,
	}
	c.hc = &http.Client{
		Transport:     router{origin: &c.base, registry: o.rt, other: o.redirectRT},
		CheckRedirect: c.checkRedirect,
	}
	return c, nil
}

// checkHost refuses a host that is not a registry host alone ("ghcr.io",
// "localhost:5000"): no scheme, no path.
func checkHost(host string) error {
	if scheme, _, ok := strings.Cut(host, "://"); ok {
		return fmt.Errorf("host %q has a scheme (%s://): give the host alone and choose the protocol with WithTLS", host, scheme)
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		return fmt.Errorf("host %q has a path: give the registry host alone, as in \"ghcr.io\"", host)
	}
	return reference.ValidateRegistry(host)
}

// newOptions applies opts over the defaults.
func newOptions(opts []Option) (clientOptions, error) {
	o := clientOptions{
		tls:            TLSDefault,
		userAgent:      defaultUserAgent,
		maxManifest:    defaultMaxManifestSize,
		maxList:        DefaultMaxListSize,
		maxListEntries: DefaultMaxListEntries,
		chunkSize:      defaultChunkSize,
		singlePOSTMax:  defaultSinglePOSTMax,
		maxConcurrent:  defaultMaxConcurrent,
		retry:          RetryPolicy{}.withDefaults(),
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return clientOptions{}, err
		}
	}
	return o, nil
}

// roundTrippers sets the round tripper of requests to the registry (the
// caller's or a default one, under the middleware) and the one of
// requests redirected elsewhere, which carries no credentials.
func (o *clientOptions) roundTrippers(host string) error {
	if o.tls == TLSSkipVerify && o.rt != nil {
		return errors.New("TLSSkipVerify conflicts with WithRoundTripper: configure certificate checks on your round tripper and use TLSVerify")
	}
	if o.rt == nil {
		o.rt = defaultTransport(o.tls == TLSSkipVerify)
		if o.redirectRT == nil {
			o.redirectRT = o.rt // no credentials in it: share its connections
		}
	}
	if o.redirectRT == nil {
		o.redirectRT = defaultTransport(o.tls == TLSSkipVerify)
	}
	for i := len(o.middleware) - 1; i >= 0; i-- {
		if o.rt = o.middleware[i](host, o.rt); o.rt == nil {
			return errors.New("a middleware returned a nil round tripper")
		}
	}
	return nil
}

// CloseIdleConnections closes the connections the client keeps open for
// reuse that no request is using now. The client stays usable: later
// requests open new connections. A program that is done with a registry,
// or a test checking that nothing is left running, calls it; the
// connections would otherwise close by themselves after some idle time.
// Round trippers without a CloseIdleConnections method (such as a middleware
// of the caller's that does not pass it on) are left as they are.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Acquire takes one of the client's blob transfer slots (see [transport.Limiter] and
// [WithMaxConcurrency]), waiting for one to be free or for ctx to be done.
func (c *Client) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case c.slots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-c.slots }) }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Host returns the registry host the client was made for, as given to
// [New] ("docker.io", not its API endpoint).
func (c *Client) Host() string { return c.host }

// Origin returns the scheme and host of the registry API the client sends
// its requests to, lowercase ("https://registry-1.docker.io" for a client
// of "docker.io"), without the default port of its scheme: two clients
// with equal origins reach the same registry,
// so a blob can be mounted from a repository of one into a repository of
// the other (see [transport.Originer]).
func (c *Client) Origin() string {
	host := strings.ToLower(c.base.Host)
	switch c.base.Scheme {
	case "https":
		host = strings.TrimSuffix(host, ":443")
	case "http":
		host = strings.TrimSuffix(host, ":80")
	}
	return c.base.Scheme + "://" + host
}

// defaultTransport returns a new transport of the client's own.
func defaultTransport(skipVerify bool) *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.MaxIdleConnsPerHost = 32
	if skipVerify {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true
	}
	return t
}

// endpoint returns the URL of /v2/<repo>/<parts…>, each part escaped on its
// own ("" parts give a trailing slash).
func (c *Client) endpoint(repo string, parts ...string) *url.URL {
	size := len("/v2/") + len(repo) + 1
	for _, p := range parts {
		size += len(p) + 1
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString("/v2/")
	if repo != "" {
		b.WriteString(repo)
		b.WriteByte('/')
	}
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p)
	}
	u := c.base
	u.Path, u.RawPath = b.String(), ""
	if !segmentsPlain(repo, parts) {
		u.RawPath = escapedEndpoint(repo, parts)
	}
	return &u
}

// segmentsPlain reports whether no segment of repo and parts needs
// escaping in a path, as valid names, tags and digests never do: the path
// is then its own escaped form.
func segmentsPlain(repo string, parts []string) bool {
	for rest := repo; rest != ""; {
		seg, after, _ := strings.Cut(rest, "/")
		if url.PathEscape(seg) != seg {
			return false
		}
		rest = after
	}
	for _, p := range parts {
		if url.PathEscape(p) != p {
			return false
		}
	}
	return true
}

// escapedEndpoint is the escaped path of [Client.endpoint], each segment
// of repo and each of parts escaped on its own.
func escapedEndpoint(repo string, parts []string) string {
	raw := "/v2/"
	if repo != "" {
		for i, seg := range strings.Split(repo, "/") {
			if i > 0 {
				raw += "/"
			}
			raw += url.PathEscape(seg)
		}
		raw += "/"
	}
	for i, p := range parts {
		if i > 0 {
			raw += "/"
		}
		raw += url.PathEscape(p)
	}
	return raw
}

// withQuery returns a copy of u with key=value added to its query, which is
// kept as the registry wrote it (upload locations may carry signed state).
func withQuery(u *url.URL, key, value string) *url.URL {
	r := *u
	kv := url.QueryEscape(key) + "=" + url.QueryEscape(value)
	if r.RawQuery == "" {
		r.RawQuery = kv
	} else {
		r.RawQuery += "&" + kv
	}
	return &r
}

// wantOK is the reqSpec.want of requests that succeed with 200 alone,
// shared so that no request makes its own. It is never written.
var wantOK = []int{http.StatusOK}

// reqSpec is one request of the client.
type reqSpec struct {
	method string
	url    *url.URL
	header http.Header
	// body is sent with Content-Length size; nil sends none.
	body io.Reader
	size int64
	// notFound is the code a 404 without a known code gets.
	notFound transport.
		// want lists the statuses that are success; others become a
		// *ResponseError.
		Code

	want []int
	// idempotent says a POST or PUT may be sent again: it opens an upload
	// session, mounts a blob or puts a manifest. GET, HEAD and DELETE
	// always may; PATCH never does.
	idempotent bool
	// read, when positive, has do read a wanted answer's body of up to
	// read+1 bytes within the request's attempts, so that a body cut short
	// is read again; the caller gets it in memory. A Content-Length above
	// read is left to the caller to refuse.
	read int64
}

// location returns the Location of resp, resolved against the request URL.
func locationOf(resp *http.Response) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("%s %s: %d response without a Location header",
			resp.Request.Method, redact(resp.Request.URL), resp.StatusCode)
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%s %s: bad Location %q", resp.Request.Method, redact(resp.Request.URL), loc)
	}
	return u, nil
}

// checkRepo checks a repository name ([spec.CheckName]), so that no name
// can make a URL other than its own.
func checkRepo(repo string) error { return spec.CheckName(repo) }

// checkDigest checks a digest ([spec.CheckDigest]).
func checkDigest(d digest.Digest) error {
	_, err := spec.CheckDigest(string(d))
	return err
}
