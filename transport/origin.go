package transport

import "fmt"

// OriginError is a request refused because it would have left the origin
// (scheme, host and port) it is bound to, carrying what may not go
// elsewhere. It is returned, wrapped (match it with [errors.As]), by
//
//   - package auth, for a credential: a redirect of a token request or of
//     a login off the origin of the registry or its token realm, and a
//     token realm that is plain HTTP where the registry is HTTPS, off the
//     registry's host, or that holds user information;
//   - the HTTP client (package transport/remote), for a redirect it
//     refuses: of an upload or of a request other than GET and HEAD off the
//     registry's origin (an upload's error also matches
//     [ErrBlobUploadInvalid]), of a blob GET its redirect policy refuses
//     (the default policy's also matches [ErrDenied]), and for an upload
//     location off the registry's origin ([ErrBlobUploadInvalid] too).
//
// It never holds a secret: its URLs have no user information and no query.
type OriginError struct {
	// What is what would have gone: "the credential" when empty, or a
	// request ("an upload", "a PUT request").
	What string
	// For is the origin (scheme://host:port) the request or credential is
	// bound to: the registry's, or its token realm's.
	For string
	// To is where it would have gone.
	To string
	// Reason says why it may not go there.
	Reason string
}

// Error returns a message such as `refusing to send the credential for
// https://ghcr.io:443 to http://ghcr.io/token: plain HTTP, where the
// credential is for HTTPS`.
func (e *OriginError) Error() string {
	what := e.What
	if what == "" {
		what = "the credential"
	}
	return fmt.Sprintf("refusing to send %s for %s to %s: %s", what, e.For, e.To, e.Reason)
}
