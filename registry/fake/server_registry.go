package fake

import (
	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/registry"
)

// Registry returns a regkit registry that speaks to the server over HTTP
// (plain HTTP, the server being on loopback), as [registry.New] makes it
// from the server's Host:
//
//	srv := fake.Serve(t)
//	repo := srv.Registry().Repository("app")
//
// When the server has authentication ([WithBasicAuth], [WithTokenAuth])
// with exactly one user, the registry signs in as that user; with several,
// it is anonymous. [registry.WithAuth] among opts says otherwise, and the
// other options configure the client as for registry.New
// ([registry.WithClientOptions]). Each call returns a new registry, with
// connections of its own.
func (s *Server) Registry(opts ...registry.Option) *registry.Registry {
	if s.auth != nil && len(s.auth.users) == 1 {
		for user, password := range s.auth.users {
			creds := auth.Static(s.Host, auth.Credential{Username: user, Password: password})
			opts = append([]registry.Option{registry.WithAuth(creds)}, opts...)
		}
	}
	reg, err := registry.New(s.Host, opts...)
	if err != nil { // a loopback host:port is always valid
		panic("fake: Server.Registry: " + err.Error())
	}
	return reg
}
