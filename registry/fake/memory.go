package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/route"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// memTransport is the transport of the in-memory [Registry]: its Store, with
// every call recorded in a request log as the HTTP request regkit's client
// sends for it, and the faults of [Registry.SetFaults] injected as a
// [Server] injects them. A call is matched to faults by the target of that
// request's path, parsed as the Server parses it ([targetOf]), so a fault
// applies in memory to the calls whose requests it applies to over HTTP.
//
// A call the HTTP client refuses before sending anything (an invalid
// repository name) names no endpoint: it is neither logged nor faulted, and
// the Store refuses it.
type memTransport struct {
	next   transport.Transport
	log    requestLog
	faults faultSet
}

var _ transport.Transport = (*memTransport)(nil)

// newMemTransport returns next recorded, with the default request log.
func newMemTransport(next transport.Transport) *memTransport {
	return &memTransport{next: next, log: requestLog{size: defaultRequestLog}}
}

// Unwrap returns the Store, so that [transport.Find] finds what it can do.
func (t *memTransport) Unwrap() transport.Transport { return t.next }

// call is one call to the memTransport as the request it stands for.
type call struct {
	t      *memTransport // nil: not logged
	ctx    context.Context
	start  time.Time
	method string
	path   string
	rt     Route
	fired  []Fault
	cut    faultKind // the fault that cut the request body, if one did
}

// begin starts the call standing for a request with method to the escaped
// path, which has a body if hasBody: it counts it against the faults, waits
// the delays that fire, and returns the error of the first status fault
// that fires, logging the call then. Otherwise the caller ends the call.
func (t *memTransport) begin(ctx context.Context, method, path string, hasBody bool) (*call, error) {
	api, perr := route.Parse(path)
	if perr != nil {
		return &call{ctx: ctx}, nil // the client sends nothing
	}
	tg := targetOf(path, api, nil)
	c := &call{t: t, ctx: ctx, start: time.Now(), method: method, path: path, rt: tg.rt}
	c.fired = t.faults.fire(method, tg.rt, tg.repo, hasBody)
	for _, f := range c.fired {
		if f.kind == faultDelay && !sleep(ctx, f.delay) {
			c.log(0, 0)
			return nil, fmt.Errorf("%s %s: %w", method, path, context.Cause(ctx))
		}
	}
	for _, f := range c.fired {
		if f.kind == faultStatus {
			c.log(f.status, 0)
			return nil, c.statusError(f)
		}
	}
	return c, nil
}

// statusError is the error regkit's HTTP client returns for the answer of
// the status fault f: a [*remote.ResponseError] with the error f's answer
// carries, in a [*transport.RateLimitError] for a 429.
func (c *call) statusError(f Fault) error {
	err := &remote.ResponseError{Method: c.method, URL: c.path, StatusCode: f.status, Errors: []*transport.Error{f.errorEntry(c.rt)}}
	if f.status != http.StatusTooManyRequests {
		return err
	}
	rl := &transport.RateLimitError{Limit: -1, Remaining: -1, Err: err}
	if f.retryAfter > 0 {
		rl.RetryAt = time.Now().Add((f.retryAfter + time.Second - 1).Truncate(time.Second))
	}
	return rl
}

// log adds the call to the request log, with status and bytes of response
// body.
func (c *call) log(status int, bytes int64) {
	if c.t == nil {
		return
	}
	c.t.log.add(Request{
		Method:   c.method,
		Path:     clip(c.path, maxLogPath),
		Route:    c.rt,
		Status:   status,
		Bytes:    bytes,
		Duration: time.Since(c.start),
		Fault:    faultNames(c.fired),
	})
}

// end logs the call with ok, its status on success, or the status that
// err has over HTTP.
//
// A request body cut by [DropAfter] has no answer (0); one cut by
// [Truncate], a 400.
func (c *call) end(err error, ok int) {
	status := ok
	switch {
	case c.cut == faultDrop:
		status = 0
	case c.cut == faultTruncate:
		status = http.StatusBadRequest
	case err != nil:
		status = statusOf(err)
	}
	c.log(status, 0)
}

// statusOf is the status the server answers err with (see
// [server.Handler]), or 0 for a call whose context ended: nothing was
// answered.
func statusOf(err error) int {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0
	}
	var e *transport.Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code.HTTPStatus()
	}
	var code transport.Code
	if errors.As(err, &code) && code != "" {
		return code.HTTPStatus()
	}
	return http.StatusInternalServerError
}

// body returns the state of the body faults that fired on the call, or nil
// when none did.
func (c *call) body() *bodyState {
	var b *bodyState
	for _, f := range c.fired {
		if f.body() {
			if b == nil {
				b = &bodyState{ctx: c.ctx}
			}
			b.faults = append(b.faults, f)
		}
	}
	return b
}

// reader returns r read through the body faults that fired on the call,
// cut as regkit's HTTP client sees a cut body: an unexpected EOF for
// [Truncate], a reset connection for [DropAfter].
func (c *call) reader(r io.Reader) io.Reader {
	b := c.body()
	if b == nil {
		return r
	}
	return &faultReader{b: b, r: r, cut: c.cutError}
}

// cutError is what reading a body cut by the fault by gives.
func (c *call) cutError(by Fault) error {
	c.cut = by.kind
	if by.kind == faultTruncate {
		return fmt.Errorf("%s %s: %w", c.method, c.path, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%s %s: injected fault (%s): %w", c.method, c.path, by, syscall.ECONNRESET)
}

// sent returns how many of n bytes of response body get through the body
// faults that fired on the call, for the log.
func (c *call) sent(n int64) int64 {
	for _, f := range c.fired {
		if f.kind == faultDrop || f.kind == faultTruncate {
			n = min(n, f.n)
		}
	}
	return n
}

// The escaped paths of the API's endpoints, as regkit's HTTP client sends
// them.

func namePath(repo string) string {
	segs := strings.Split(repo, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/v2/" + strings.Join(segs, "/")
}

func manifestPath(repo, ref string) string {
	return namePath(repo) + "/manifests/" + url.PathEscape(ref)
}

func blobPath(repo string, d digest.Digest) string {
	return namePath(repo) + "/blobs/" + url.PathEscape(string(d))
}

func uploadPath(repo, id string) string {
	return namePath(repo) + "/blobs/uploads/" + url.PathEscape(id)
}

// GetManifest is GET /v2/<name>/manifests/<reference>.
func (t *memTransport) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	c, err := t.begin(ctx, http.MethodGet, manifestPath(repo, ref), false)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	desc, body, err := t.next.GetManifest(ctx, repo, ref)
	if err != nil {
		c.end(err, 0)
		return desc, body, err
	}
	c.log(http.StatusOK, c.sent(int64(len(body))))
	if c.body() != nil {
		if body, err = io.ReadAll(c.reader(bytes.NewReader(body))); err != nil {
			return ocispec.Descriptor{}, nil, err
		}
	}
	return desc, body, nil
}

// HeadManifest is HEAD /v2/<name>/manifests/<reference>.
func (t *memTransport) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	c, err := t.begin(ctx, http.MethodHead, manifestPath(repo, ref), false)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := t.next.HeadManifest(ctx, repo, ref)
	c.end(err, http.StatusOK)
	return desc, err
}

// PutManifest is PUT /v2/<name>/manifests/<reference>, its body read
// through the body faults.
func (t *memTransport) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	c, err := t.begin(ctx, http.MethodPut, manifestPath(repo, ref), len(body) != 0)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if c.body() != nil {
		if body, err = io.ReadAll(c.reader(bytes.NewReader(body))); err != nil {
			c.end(err, 0)
			return ocispec.Descriptor{}, err
		}
	}
	desc, err := t.next.PutManifest(ctx, repo, ref, mediaType, body, opts)
	c.end(err, http.StatusCreated)
	return desc, err
}

// DeleteManifest is DELETE /v2/<name>/manifests/<reference>.
func (t *memTransport) DeleteManifest(ctx context.Context, repo, ref string) error {
	c, err := t.begin(ctx, http.MethodDelete, manifestPath(repo, ref), false)
	if err != nil {
		return err
	}
	err = t.next.DeleteManifest(ctx, repo, ref)
	c.end(err, http.StatusAccepted)
	return err
}

// StatBlob is HEAD /v2/<name>/blobs/<digest>.
func (t *memTransport) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	c, err := t.begin(ctx, http.MethodHead, blobPath(repo, d), false)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := t.next.StatBlob(ctx, repo, d)
	c.end(err, http.StatusOK)
	return desc, err
}

// GetBlob is GET /v2/<name>/blobs/<digest>; the blob is read through the
// body faults.
func (t *memTransport) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	c, err := t.begin(ctx, http.MethodGet, blobPath(repo, d), false)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	rc, desc, err := t.next.GetBlob(ctx, repo, d)
	if err != nil {
		c.end(err, 0)
		return rc, desc, err
	}
	c.log(http.StatusOK, c.sent(desc.Size))
	if c.body() == nil {
		return rc, desc, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{c.reader(rc), rc}, desc, nil
}

// DeleteBlob is DELETE /v2/<name>/blobs/<digest>.
func (t *memTransport) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	c, err := t.begin(ctx, http.MethodDelete, blobPath(repo, d), false)
	if err != nil {
		return err
	}
	err = t.next.DeleteBlob(ctx, repo, d)
	c.end(err, http.StatusAccepted)
	return err
}

// ListTags is GET /v2/<name>/tags/list.
func (t *memTransport) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	c, err := t.begin(ctx, http.MethodGet, namePath(repo)+"/tags/list", false)
	if err != nil {
		return transport.Page[string]{}, err
	}
	p, err := t.next.ListTags(ctx, repo, req)
	c.end(err, http.StatusOK)
	return p, err
}

// ListRepositories is GET /v2/_catalog.
func (t *memTransport) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	c, err := t.begin(ctx, http.MethodGet, "/v2/_catalog", false)
	if err != nil {
		return transport.Page[string]{}, err
	}
	p, err := t.next.ListRepositories(ctx, req)
	c.end(err, http.StatusOK)
	return p, err
}

// ListReferrers is GET /v2/<name>/referrers/<digest>.
func (t *memTransport) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	c, err := t.begin(ctx, http.MethodGet, namePath(repo)+"/referrers/"+url.PathEscape(string(subject)), false)
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	p, err := t.next.ListReferrers(ctx, repo, subject, artifactType, req)
	c.end(err, http.StatusOK)
	return p, err
}
