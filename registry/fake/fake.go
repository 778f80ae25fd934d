// Package fake is an in-memory container registry for tests and examples.
//
// [New] returns a [Registry]: the regkit object model (a
// [registry.Registry]) over a [Store], the in-memory implementation of
// [transport.Transport]. It needs no network and no disk:
//
//	reg := fake.New()
//	repo := reg.Repository("myapp1")
//	desc, err := repo.Push(ctx, img, "3.0", "latest")
//
// The Store implements the transport contract on its own, without reusing
// the client's push and pull code, so a bug cannot hide by being on both
// sides. It stores blobs once, content-addressed and shared between
// repositories, verifies every blob and manifest before it becomes visible,
// and supports sha256 and sha512 digests.
package fake

import (
	"github.com/regkit/regkit/registry"
)

// Registry is the in-memory registry: a [registry.Registry] (so it has
// Repository, Repositories and the rest) over a [Store] that tests can look
// into.
type Registry struct {
	*registry.Registry
	// Store is the in-memory backend the registry speaks through.
	Store *Store
}

// New returns an empty in-memory registry.
func New(opts ...Option) *Registry {
	s := NewStore(opts...)
	return &Registry{Registry: registry.FromTransport(s), Store: s}
}
