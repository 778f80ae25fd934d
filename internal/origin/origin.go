// Package origin holds the one set of rules on where a registry credential
// may go, shared by the client's router and redirect policy (package
// transport), the authenticating round tripper and auth.Login (package
// auth):
//
//   - a credential for an origin (scheme, host and port) goes to that
//     origin only: not to another port, not to another scheme of the same
//     host, not along a redirect that leaves it ([Send]);
//   - a token realm must be HTTPS; it may be plain HTTP only when the
//     registry itself is plain HTTP and the realm is on the registry's own
//     host, or on loopback when the registry is on loopback too ([Realm]).
package origin

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/regkit/regkit/transport"
)

// MaxRedirects is how many redirects a request of the client follows.
const MaxRedirects = 10

// Same reports whether a and b have the same scheme, host and port (a
// missing port is the scheme's default).
func Same(a, b *url.URL) bool {
	// The parts are compared one by one, as hostPort would join them, so
	// that every request's check allocates nothing.
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// Send returns nil when a credential for the origin of owner may be sent to
// to, and a [*transport.OriginError] saying why not otherwise. It may only when to is on
// owner's origin and holds no user information.
func Send(owner, to *url.URL) error {
	fail := func(reason string) error {
		return &transport.OriginError{For: Of(owner), To: Redact(to), Reason: reason}
	}
	switch {
	case to.User != nil:
		return fail("the URL holds user information")
	case Same(owner, to):
		return nil
	case !strings.EqualFold(owner.Hostname(), to.Hostname()):
		return fail("another host")
	case !strings.EqualFold(owner.Scheme, to.Scheme) && strings.EqualFold(to.Scheme, "http"):
		return fail("plain HTTP, where the credential is for HTTPS")
	case !strings.EqualFold(owner.Scheme, to.Scheme):
		return fail("another scheme")
	}
	return fail("another port")
}

// Realm parses the realm of a registry's Bearer challenge and checks that
// a credential may go there: reg is the URL of the challenged request. The
// realm must be an absolute http or https URL without user information; it
// may be plain HTTP only when reg is plain HTTP and the realm is on reg's
// own host, or both are on loopback. Anything else is a [*transport.OriginError] (or a
// plain error for a realm that does not parse).
func Realm(reg *url.URL, realm string) (*url.URL, error) {
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("registry %s sent a bearer challenge with no usable realm %q", reg.Host, RedactString(realm))
	}
	fail := func(reason string) (*url.URL, error) {
		return nil, &transport.OriginError{For: Of(reg), To: Redact(u), Reason: reason}
	}
	if u.User != nil {
		return fail("the token realm holds user information")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u, nil
	case "http":
		switch {
		case !strings.EqualFold(reg.Scheme, "http"):
			return fail("the token realm is plain HTTP and the registry is HTTPS")
		case strings.EqualFold(u.Hostname(), reg.Hostname()):
			return u, nil
		case IsLoopback(reg.Host) && IsLoopback(u.Host):
			return u, nil
		case IsLoopback(reg.Host):
			return fail("the token realm is plain HTTP off the loopback host the registry is on")
		}
		return fail("the token realm is plain HTTP on another host than the registry's")
	}
	return fail(fmt.Sprintf("the token realm has scheme %q, want https", u.Scheme))
}

// IsLoopback reports whether host (a name or an IP literal, with or without
// a port and IPv6 brackets) is localhost or a loopback address. Names are
// not resolved.
func IsLoopback(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// IsPrivate reports whether host (a name or an IP literal, no port) is
// loopback, private, link-local or unspecified. Names are not resolved:
// only "localhost" and names under .localhost count.
func IsPrivate(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // an IPv6 zone: fe80::1%eth0
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified())
}

// Of returns the origin of u, as in "https://ghcr.io:443".
func Of(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + hostPort(u)
}

// Redact returns u's scheme, host and path, without user information, query
// or fragment, for a message.
func Redact(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// RedactString is [Redact] of a URL not parsed yet.
func RedactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return Redact(u)
}

func hostPort(u *url.URL) string {
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port(u))
}

// port is u's port, or its scheme's default: 80 for http, 443 for https,
// "" for another scheme.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch {
	case strings.EqualFold(u.Scheme, "http"):
		return "80"
	case strings.EqualFold(u.Scheme, "https"):
		return "443"
	}
	return ""
}
