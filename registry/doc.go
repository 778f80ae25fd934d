// Package registry is the entry point of regkit: a [Registry] is a service
// that hosts repositories. It lists them (its catalog) and hands out a
// [repository.Repository] by name; repositories hold tags, and tags point at
// digest-addressed images.
//
//	reg := fake.New()                     // the in-memory registry, for tests and examples
//	// or a real one, with the credentials docker login saved:
//	// reg, err := registry.New("ghcr.io", registry.WithAuth(auth.FromDockerConfig()))
//	repo := reg.Repository("myapp1")
//	for name, err := range reg.Repositories(ctx, nil) { … }
//
// From a reference, one call gives the tag or repository it names, with
// Docker Hub's normalisation ("ubuntu" is docker.io/library/ubuntu, served
// at registry-1.docker.io); like New, it does no I/O:
//
//	tg, err := registry.OpenTag("ubuntu:24.04")   // or OpenRepository, RepositoryOf, TagOf
//	img, err := tg.Image(ctx)
package registry
