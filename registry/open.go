package registry

import (
	"fmt"
	"strings"

	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/tag"
)

// OpenRepository returns the repository a name such as "ubuntu",
// "myorg/app" or "ghcr.io/org/app" denotes, on a registry made by [New] with
// opts. The name is normalised as docker does ("ubuntu" is
// docker.io/library/ubuntu; see package reference). It does no I/O.
//
//	repo, err := registry.OpenRepository("ghcr.io/org/app", registry.WithAuth(auth.FromDockerConfig()))
//
// A tag or digest in name is an error (a [*reference.Error]); use
// [OpenTag], or [RepositoryOf] with a parsed [reference.Reference].
func OpenRepository(name string, opts ...Option) (*repository.Repository, error) {
	r, err := reference.ParseRepository(name)
	if err != nil {
		return nil, err
	}
	return RepositoryOf(r, opts...)
}

// OpenTag returns the tag an image reference such as "ubuntu",
// "ubuntu:24.04" or "ghcr.io/org/app:1.0" denotes, on a registry made by
// [New] with opts. A reference without a tag means "latest". It does no
// I/O: the tag is resolved by its methods.
//
//	tg, err := registry.OpenTag("ubuntu:24.04")
//	img, err := tg.Image(ctx)
//
// A reference with a digest ("ubuntu@sha256:…") is refused with a
// [*reference.Error] for its digest part, because a tag would silently
// drop the digest the user pinned. For those, parse the reference and
// fetch by digest from its repository:
//
//	r, err := reference.Parse(s)
//	repo, err := registry.RepositoryOf(r)
//	img, err := repo.Image(ctx, r.Digest)
func OpenTag(ref string, opts ...Option) (*tag.Tag, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil, err
	}
	if r.Digest != "" {
		return nil, &reference.Error{Input: ref, Part: reference.PartDigest,
			Err: fmt.Errorf("%w: not allowed in a tag reference (use RepositoryOf and Repository.Image)", reference.ErrInvalidFormat)}
	}
	return TagOf(r, opts...)
}

// RepositoryOf returns the repository of r (r.Registry, r.Repository) on a
// registry made by [New] with opts; r's tag and digest, if any, are not
// used. It does no I/O. r is normally made by [reference.Parse]; the zero
// Reference is an error.
func RepositoryOf(r reference.Reference, opts ...Option) (*repository.Repository, error) {
	reg, err := New(r.Registry, opts...)
	if err != nil {
		return nil, err
	}
	return reg.Repository(r.Repository), nil
}

// TagOf returns the tag r names (r.Tag, or "latest" when it has none) in
// the repository of r, on a registry made by [New] with opts. r's digest,
// if any, is not used: see [OpenTag] for references with digests. It does
// no I/O.
func TagOf(r reference.Reference, opts ...Option) (*tag.Tag, error) {
	repo, err := RepositoryOf(r, opts...)
	if err != nil {
		return nil, err
	}
	t := r.Tag
	if t == "" {
		t = reference.DefaultTag
	}
	return repo.Tag(t), nil
}

// dockerHub reports whether host is one of Docker Hub's names, on which a
// one-component repository name is an official image in "library/".
func dockerHub(host string) bool {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

// hubName returns name as Docker Hub addresses it: "ubuntu" is
// "library/ubuntu"; names with a '/' are unchanged.
func hubName(name string) string {
	if name != "" && !strings.Contains(name, "/") {
		return "library/" + name
	}
	return name
}
