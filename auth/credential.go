package auth

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Credential is what a registry accepts as proof of identity. The zero
// value means anonymous.
//
// A Credential never prints its secrets: String, GoString and Format show
// which parts are set (`{user alice, password ***}`), so %v, %+v, %#v, %s
// and %q are all safe to log.
type Credential struct {
	// Username and Password are sent with HTTP Basic authentication, to the
	// registry itself or to its token service.
	Username, Password string
	// IdentityToken is an OAuth2 refresh token (docker's "identitytoken"),
	// traded at the token service with grant_type=refresh_token. Username
	// may name its owner.
	IdentityToken string
	// RegistryToken is a bearer token (docker's "registrytoken") sent to
	// the registry as is, instead of one asked from its token service.
	RegistryToken string
}

// IsZero reports whether c is the zero Credential, that is anonymous.
func (c Credential) IsZero() bool { return c == Credential{} }

// String returns a redacted description of c: which parts are set, never
// their secret values, as in `{user alice, password ***}` or `{anonymous}`.
func (c Credential) String() string {
	if c.IsZero() {
		return "{anonymous}"
	}
	var parts []string
	if c.Username != "" {
		parts = append(parts, "user "+c.Username)
	}
	if c.Password != "" {
		parts = append(parts, "password ***")
	}
	if c.IdentityToken != "" {
		parts = append(parts, "identity token ***")
	}
	if c.RegistryToken != "" {
		parts = append(parts, "registry token ***")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// GoString returns the same redacted text as [Credential.String], so that
// %#v does not print secrets either.
func (c Credential) GoString() string { return c.String() }

// Format writes the redacted text of [Credential.String] for every verb, so
// that no verb (%d and %x included) prints a secret.
func (c Credential) Format(f fmt.State, verb rune) {
	s := c.String()
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = io.WriteString(f, s)
}

// CredentialStore finds the credential for a registry host ("ghcr.io",
// "localhost:5000", "docker.io"). A host with no credential gives the zero
// Credential and a nil error (anonymous). Implementations are safe for
// concurrent use.
//
// The stores of this package treat the Docker Hub names "docker.io",
// "index.docker.io" and "registry-1.docker.io" as one host, and compare host
// names without regard to case.
type CredentialStore interface {
	Credential(ctx context.Context, host string) (Credential, error)
}

// CredentialFunc is a function that is a [CredentialStore].
type CredentialFunc func(ctx context.Context, host string) (Credential, error)

var _ CredentialStore = CredentialFunc(nil)

// Credential calls f(ctx, host).
func (f CredentialFunc) Credential(ctx context.Context, host string) (Credential, error) {
	return f(ctx, host)
}

// credDockerHub is the canonical host name of Docker Hub.
const credDockerHub = "docker.io"

// credDockerHubKey is the key Docker uses for Docker Hub in config.json
// and the server URL it gives credential helpers.
const credDockerHubKey = "https://index.docker.io/v1/"

// credHost returns the canonical form of a registry host: any scheme and
// path removed, lower case, and the Docker Hub names folded into
// "docker.io". "https://index.docker.io/v1/", "Docker.io" and
// "registry-1.docker.io" all give "docker.io".
func credHost(s string) string {
	s = strings.TrimSpace(s)
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	switch s {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return credDockerHub
	}
	return s
}

// credServerURL returns the server URL Docker uses for host: its key in
// config.json and what it sends to credential helpers.
func credServerURL(host string) string {
	h := credHost(host)
	if h == credDockerHub {
		return credDockerHubKey
	}
	return h
}
