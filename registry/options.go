package registry

import (
	"net/http"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/transport/remote"
)

// Option configures [New].
type Option func(*options)

type options struct {
	creds  auth.CredentialStore
	client []remote.Option
}

// WithAuth makes the registry's requests carry the credentials creds gives
// for its host, answering the registry's challenges as docker does (Basic,
// or Bearer tokens fetched from the registry's token service and cached per
// scope). Credentials go to the registry host alone, never to the object
// storage its blob downloads are redirected to.
//
//	registry.New("ghcr.io", registry.WithAuth(auth.FromDockerConfig()))
//	registry.New("localhost:5000", registry.WithAuth(auth.Static("localhost:5000", auth.Credential{Username: "ci", Password: pw})))
//
// Without WithAuth (or with a nil creds) the registry is used anonymously,
// tokens included: public images on Docker Hub or ghcr.io pull without
// credentials.
func WithAuth(creds auth.CredentialStore) Option {
	return func(o *options) { o.creds = creds }
}

// WithClientOptions passes opts to the [remote.Client] New makes: TLS,
// the round tripper requests go through, chunk sizes, the user agent.
//
//	registry.New("registry.internal:5000", registry.WithClientOptions(remote.WithTLS(remote.TLSOff)))
//
// The authentication of [WithAuth] wraps the round tripper given here, as
// the innermost [remote.Middleware].
func WithClientOptions(opts ...remote.Option) Option {
	return func(o *options) { o.client = append(o.client, opts...) }
}

// authMiddleware answers the registry's challenges with creds.
func authMiddleware(creds auth.CredentialStore) remote.Middleware {
	return func(host string, next http.RoundTripper) http.RoundTripper {
		return auth.NewRoundTripper(host, creds, next)
	}
}
