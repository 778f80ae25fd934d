package registry

import (
	"context"
	"iter"

	"github.com/regkit/regkit/internal/page"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// Registry is a service that hosts repositories: docker.io, ghcr.io,
// localhost:5000, or the in-memory registry of package fake. It is a handle
// over a [transport.Transport]: making one does no I/O. It is safe for
// concurrent use.
type Registry struct {
	t   transport.Transport
	hub bool // Docker Hub: one-component names are in "library/"
}

// New returns the registry at host ("ghcr.io", "localhost:5000",
// "127.0.0.1:5000"), spoken to over HTTP by a [remote.Client]. It does no
// I/O: the first request finds out what the registry can do. Plain HTTP is
// used for loopback hosts, HTTPS for the rest unless [remote.WithTLS]
// says otherwise (see [WithClientOptions]). Requests are anonymous unless
// [WithAuth] gives credentials; either way the client answers the
// registry's auth challenges.
func New(host string, opts ...Option) (*Registry, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	copts := append(o.client[:len(o.client):len(o.client)], remote.WithMiddleware(authMiddleware(o.creds)))
	c, err := remote.New(host, copts...)
	if err != nil {
		return nil, err
	}
	return &Registry{t: c, hub: dockerHub(host)}, nil
}

// FromTransport returns a Registry whose every operation goes through t.
// For the in-memory registry use [github.com/regkit/regkit/registry/fake.New].
func FromTransport(t transport.Transport) *Registry {
	return &Registry{t: t}
}

// Transport returns the transport the registry speaks through.
func (r *Registry) Transport() transport.Transport { return r.t }

// CloseIdleConnections closes the connections the registry's transport keeps
// open for reuse that no request is using now (see
// [remote.Client.CloseIdleConnections]), found under its decorators as a
// [transport.IdleCloser]; it does nothing for a transport without
// connections, such as the in-memory registry's. The registry stays usable.
func (r *Registry) CloseIdleConnections() {
	if ci, ok := transport.Find[transport.IdleCloser](r.t); ok {
		ci.CloseIdleConnections()
	}
}

// Repository returns the repository name ("myapp1", "library/ubuntu"). It
// does no I/O: a repository that does not exist yet is created by the first
// push. On Docker Hub (a registry made by [New] for "docker.io",
// "index.docker.io" or "registry-1.docker.io") a name of one component is
// an official image: "ubuntu" is "library/ubuntu", as docker has it. An
// invalid name is reported by every method of the repository as a
// [transport.ErrNameInvalid] error that also matches the reference
// package's ([github.com/regkit/regkit/reference.ErrUppercase], …).
func (r *Registry) Repository(name string) *repository.Repository {
	if r.hub {
		name = hubName(name)
	}
	return repository.New(r.t, name)
}

// Repositories returns an iterator over the names of the registry's
// repositories (its catalog), in lexical order. It fetches pages lazily, as
// the loop asks for more; an error is yielded once, as the last element.
// Registries without a catalog yield [transport.ErrUnsupported]. opts may be
// nil; it is not modified. Its Last is a repository name to start after.
func (r *Registry) Repositories(ctx context.Context, opts *repository.ListOptions) iter.Seq2[string, error] {
	var first transport.PageRequest
	maxPages := 0
	if opts != nil {
		first, maxPages = transport.PageRequest{N: opts.PageSize, Last: opts.Last}, opts.MaxPages
	}
	return page.All(ctx, "repositories", first, maxPages, r.t.ListRepositories)
}
