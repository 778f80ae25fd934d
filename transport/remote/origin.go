package remote

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/transport"
)

// Where the client's requests may go: the registry's own origin through
// the caller's round tripper, redirected blob downloads through a plain
// one, and uploads nowhere but the registry.

// router sends requests to the registry's origin through registry (the
// caller's round tripper, which may add credentials) and every other request
// (a redirect to object storage) through other.
type router struct {
	origin          *url.URL
	registry, other http.RoundTripper
}

func (r router) RoundTrip(req *http.Request) (*http.Response, error) {
	if origin.Same(req.URL, r.origin) {
		return r.registry.RoundTrip(req)
	}
	return r.other.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both round trippers.
func (r router) CloseIdleConnections() {
	for _, rt := range []http.RoundTripper{r.registry, r.other} {
		if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
			ci.CloseIdleConnections()
		}
	}
}

// checkRedirect caps redirects, and keeps requests that carry content or
// state on the registry's origin: a redirect of an upload request, or of
// any request but GET and HEAD, to another scheme, host or port is refused
// with a [*transport.OriginError] (for an upload, wrapped in a
// BLOB_UPLOAD_INVALID [*transport.Error]). Blob GETs may go anywhere
// (object storage) that the redirect policy allows.
//
// It also strips the Authorization header from requests to other origins
// (Go drops it only for another domain, not for another port of the same
// host); those go through the redirect round tripper, which adds none.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= origin.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", origin.MaxRedirects)
	}
	if origin.Same(req.URL, &c.base) {
		return nil
	}
	first := via[0]
	if strings.Contains(first.URL.Path, "/blobs/uploads/") {
		return transport.Wrap(transport.CodeBlobUploadInvalid, c.offOrigin("an upload", req.URL))
	}
	if first.Method != http.MethodGet && first.Method != http.MethodHead {
		return c.offOrigin("a "+first.Method+" request", req.URL)
	}
	req.Header.Del("Authorization")
	policy := c.redirectPolicy
	if policy == nil {
		policy = DefaultRedirectPolicy
	}
	if err := policy(req, via); err != nil {
		if oe := (*transport.OriginError)(nil); errors.As(err, &oe) {
			return err // it says where to already
		}
		return fmt.Errorf("redirect of %s to %s refused: %w", origin.Redact(first.URL), origin.Redact(req.URL), err)
	}
	return nil
}

// offOrigin returns the refusal to send what to u, off the registry's
// origin or holding user information.
func (c *Client) offOrigin(what string, u *url.URL) *transport.OriginError {
	var oe *transport.OriginError
	if !errors.As(origin.Send(&c.base, u), &oe) {
		oe = &transport.OriginError{For: origin.Of(&c.base), To: origin.Redact(u), Reason: "another origin"}
	}
	oe.What = what
	return oe
}

// DefaultRedirectPolicy is the redirect policy of a [Client] unless
// [WithRedirectPolicy] replaces it: a registry that is not itself on a
// loopback, private or link-local address may not send a blob GET to one
// (IP literals, with or without an IPv6 zone, and localhost; names are not
// resolved), so that a public registry cannot point the client at the
// services of its own network. A refusal is a [*transport.OriginError],
// wrapped in a [*transport.Error] that matches [transport.ErrDenied]. A registry known by a name counts as public:
// a private registry with a name that redirects to object storage on a
// private address (MinIO on 10.0.0.5) needs a policy of its own.
func DefaultRedirectPolicy(req *http.Request, via []*http.Request) error {
	if len(via) > 0 && !origin.IsPrivate(via[0].URL.Hostname()) && origin.IsPrivate(req.URL.Hostname()) {
		return transport.Wrap(transport.CodeDenied, &transport.OriginError{
			What:   "a " + via[0].Method + " request",
			For:    origin.Of(via[0].URL),
			To:     origin.Redact(req.URL),
			Reason: "a registry on a public address may not send the client to a private or loopback address",
		})
	}
	return nil
}

// checkUploadURL checks a URL the client is about to send upload requests
// to: a session's Location, or a session id given to ResumeUpload. It must
// be on the registry's origin (scheme, host and port; no user information)
// and name a session under /v2/<repo>/blobs/uploads/, so that neither an
// answer of the registry nor a session id (which a proxy takes from its own
// callers) can send a blob, credentials or a DELETE elsewhere.
func (c *Client) checkUploadURL(repo string, u *url.URL) error {
	if !origin.Same(u, &c.base) || u.User != nil {
		return transport.Wrap(transport.CodeBlobUploadInvalid, c.offOrigin("an upload", u))
	}
	rest, ok := strings.CutPrefix(u.Path, "/v2/"+repo+"/blobs/uploads/")
	if ok && rest != "" {
		for seg := range strings.SplitSeq(rest, "/") {
			if seg == "." || seg == ".." {
				ok = false
			}
		}
	}
	if !ok || rest == "" {
		return transport.Errorf(transport.CodeBlobUploadInvalid, "upload location %s refused: not an upload session of %s (/v2/%s/blobs/uploads/<id>)", origin.Redact(u), repo, repo)
	}
	return nil
}
