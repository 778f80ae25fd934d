// Package reference parses, normalises and formats image references such as
// "ubuntu", "ghcr.io/org/app:1.2" and "localhost:5000/myapp1@sha256:…".
//
// A [Reference] is a plain comparable struct of four strings, Registry,
// Repository, Tag and Digest, so it can be compared with == and used as a
// map key:
//
//	r, err := reference.Parse("ubuntu:22.04")
//	// r.Registry == "docker.io", r.Repository == "library/ubuntu", r.Tag == "22.04"
//	r.String()   // "docker.io/library/ubuntu:22.04"
//	r.Familiar() // "ubuntu:22.04"
//	r.Ref()      // "22.04": what to ask the registry's manifests endpoint for
//
// Use [Parse] for a reference to an image and [ParseRepository] for the name
// of a repository ("myorg/myapp1", no tag). [Reference.WithTag] and
// [Reference.WithDigest] derive new references, and the Validate functions
// ([ValidateRegistry], [ValidateRepository], [ValidateTag], [ValidateDigest])
// check one part on its own.
//
// # Grammar
//
// The grammar is that of github.com/distribution/reference, which this
// package uses for all parsing:
//
//	reference  := name [ ":" tag ] [ "@" digest ]
//	name       := [ registry "/" ] repository
//	registry   := host [ ":" port ]           (a host name, IPv4, or [IPv6])
//	repository := component ( "/" component )* (lower case, at most 255 characters)
//	tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//	digest     := algorithm ":" hex           (sha256, sha384 or sha512)
//
// See https://pkg.go.dev/github.com/distribution/reference for the full
// grammar, and the OCI distribution spec for how registries use names and
// references: https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pulling-manifests
//
// # Normalisation
//
// Parsing normalises references the way docker does, so that every spelling
// of a reference gives the same [Reference]:
//
//   - A name whose first component is not a registry host is on Docker Hub:
//     "amouat/revealjs" is docker.io/amouat/revealjs. The first component is
//     a host if it is "localhost", contains a '.' or ':', or has an upper-case
//     letter ("localhost/x", "ghcr.io/x", "myhost:5000/x", "[::1]:5000/x").
//   - A Docker Hub name of one component is an official image in "library/":
//     "ubuntu" and "docker.io/ubuntu" are docker.io/library/ubuntu.
//   - The legacy host index.docker.io becomes docker.io.
//   - With neither tag nor digest, [Parse] sets Tag to "latest"
//     ([DefaultTag]); [ParseRepository] leaves it empty.
//   - A tag and a digest may both be given; the digest then decides which
//     image is meant ([Reference.Ref] returns it), and the tag is kept.
//
// Nothing else is changed: registry hosts keep their case, and other
// registries get no "library/" prefix. Note that, as with docker,
// "localhost:5000" alone is the Docker Hub repository library/localhost with
// the tag "5000"; write "localhost:5000/name" for a local registry.
//
// [Reference.Familiar] undoes the Docker Hub part of this, giving the short
// form docker prints ("ubuntu:latest", "amouat/revealjs"). Both
// [Reference.String] and [Reference.Familiar] parse back to the same value.
//
// # Errors
//
// Every error is an [*Error] that names the input, the [Part] at fault and
// what is wrong with it, for example
//
//	invalid reference "ghcr.io/Foo/bar": repository: must be lower case
//
// or, for a part checked alone by a Validate function or a With method,
//
//	repository "Foo": must be lower case
//
// Match errors with [errors.Is] against the sentinels ([ErrEmpty],
// [ErrUppercase], [ErrNameTooLong], [ErrInvalidTag], [ErrTagTooLong],
// [ErrUnsupportedDigestAlgorithm], [ErrDigestLength], …). An error also
// matches the "invalid" sentinel of its part, so errors.Is(err,
// ErrInvalidTag) holds for every problem with a tag, whatever it is.
//
// # Digests
//
// The package imports crypto/sha256 and crypto/sha512, so sha256, sha384 and
// sha512 digests are available to go-digest in every program that imports
// regkit.
package reference
