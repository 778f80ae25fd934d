package reference

import (
	"strings"

	distref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// DefaultTag is the tag [Parse] fills in when a reference names neither a
// tag nor a digest, as docker does.
const DefaultTag = "latest"

// Reference is a parsed, normalised image reference:
// Registry/Repository[:Tag][@Digest]. It is a comparable value, usable as a
// map key; two references to the same image written differently ("ubuntu",
// "docker.io/library/ubuntu:latest") parse to equal values.
//
// The zero Reference is empty and invalid; make one with [Parse],
// [ParseRepository] or [MustParse].
type Reference struct {
	// Registry is the registry host, with a port if one was given:
	// "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000".
	Registry string
	// Repository is the path of the repository within the registry:
	// "library/ubuntu", "myapp1".
	Repository string
	// Tag is the tag, or "" when the reference has none.
	Tag string
	// Digest is the digest of the image, or "" when the reference has none.
	Digest digest.Digest
}

// Parse parses a full reference, [registry/]repository[:tag][@digest], and
// normalises it as docker does (see the package documentation): "ubuntu"
// becomes docker.io/library/ubuntu:latest. If s has neither a tag nor a
// digest, Tag is [DefaultTag]; if it has a digest and no tag, Tag stays "".
//
// A digest or image ID alone ("sha256:…", 64 hex digits) is rejected: it
// names no repository. Errors are [*Error] values; see the sentinels.
func Parse(s string) (Reference, error) {
	named, err := parseNamed(s)
	if err != nil {
		return Reference{}, err
	}
	r := fromNamed(named)
	if r.Tag == "" && r.Digest == "" {
		r.Tag = DefaultTag
	}
	return r, nil
}

// ParseRepository parses a repository name, [registry/]repository, with the
// same normalisation as [Parse] ("amouat/revealjs" becomes
// docker.io/amouat/revealjs) but no default tag: Tag and Digest stay "".
// A tag or digest in s is an error that matches [ErrInvalidFormat] and names
// the tag or digest part. Note that, as for docker, "localhost:5000" alone is
// the repository "localhost" with the tag "5000", and so an error here.
func ParseRepository(s string) (Reference, error) {
	named, err := parseNamed(s)
	if err != nil {
		return Reference{}, err
	}
	r := fromNamed(named)
	switch {
	case r.Tag != "":
		return Reference{}, &Error{Input: s, Part: PartTag, Err: detail(ErrInvalidFormat, "not allowed in a repository name")}
	case r.Digest != "":
		return Reference{}, &Error{Input: s, Part: PartDigest, Err: detail(ErrInvalidFormat, "not allowed in a repository name")}
	}
	return r, nil
}

// MustParse is like [Parse] but panics on error. It is for tests and
// package-level constants; never call it on user input.
func MustParse(s string) Reference {
	r, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// parseNamed parses s with distribution/reference and turns its errors into
// [*Error] values.
func parseNamed(s string) (distref.Named, error) {
	if s == "" {
		return nil, &Error{Input: s, Part: PartWhole, Err: ErrEmpty}
	}
	ref, err := distref.ParseAnyReference(s)
	if err != nil {
		return nil, diagnose(s, err)
	}
	named, ok := ref.(distref.Named)
	if !ok {
		return nil, &Error{Input: s, Part: PartRepository,
			Err: detail(ErrInvalidRepository, "missing: a digest or image ID alone names no repository")}
	}
	if distref.Domain(named) == "" {
		// The first component has a '.' or ':' and so names a registry,
		// but is no host name ("0_0.0/app"): distribution/reference then
		// reads the whole as a path with no registry at all.
		host, _, _ := strings.Cut(s, "/")
		return nil, &Error{Input: s, Part: PartRegistry, Err: detail(ErrInvalidRegistry, "%q is not a host name", host)}
	}
	return named, nil
}

func fromNamed(named distref.Named) Reference {
	r := Reference{Registry: distref.Domain(named), Repository: distref.Path(named)}
	if t, ok := named.(distref.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(distref.Digested); ok {
		r.Digest = d.Digest()
	}
	return r
}

// String returns the full reference: "docker.io/library/ubuntu:latest",
// "ghcr.io/a/b:1@sha256:…", or "docker.io/amouat/revealjs" when there is
// neither tag nor digest. For a reference from [Parse], Parse(r.String())
// returns r.
func (r Reference) String() string {
	var b strings.Builder
	b.Grow(len(r.Registry) + len(r.Repository) + len(r.Tag) + len(r.Digest) + 3)
	if r.Registry != "" {
		b.WriteString(r.Registry)
		b.WriteByte('/')
	}
	b.WriteString(r.Repository)
	r.writeSuffix(&b)
	return b.String()
}

// writeSuffix writes ":tag@digest", leaving out either part when empty.
func (r Reference) writeSuffix(b *strings.Builder) {
	if r.Tag != "" {
		b.WriteByte(':')
		b.WriteString(r.Tag)
	}
	if r.Digest != "" {
		b.WriteByte('@')
		b.WriteString(string(r.Digest))
	}
}

// Familiar returns docker's short form of the reference, as docker prints
// it: "ubuntu:latest", "amouat/revealjs", "localhost:5000/myapp1:3.0".
// Docker Hub's "docker.io/" and "library/" are left out, unless leaving them
// out would make the result parse to another repository (a Docker Hub
// repository "example.com/x" keeps its "docker.io/"). Parsing the result
// gives r back.
func (r Reference) Familiar() string {
	name := r.Name()
	if n, err := distref.WithName(name); err == nil {
		short := distref.FamiliarName(n)
		if back, err := distref.ParseNormalizedNamed(short); err == nil && back.Name() == name {
			name = short
		}
	}
	var b strings.Builder
	b.WriteString(name)
	r.writeSuffix(&b)
	return b.String()
}

// Name returns the repository's full name, registry/repository:
// "docker.io/library/ubuntu". It has no tag and no digest.
func (r Reference) Name() string {
	if r.Registry == "" {
		return r.Repository
	}
	return r.Registry + "/" + r.Repository
}

// Ref returns what to ask the registry for, as in GET
// /v2/<name>/manifests/<ref>: the digest if there is one, else the tag, else
// [DefaultTag].
func (r Reference) Ref() string {
	switch {
	case r.Digest != "":
		return r.Digest.String()
	case r.Tag != "":
		return r.Tag
	}
	return DefaultTag
}

// WithTag returns a copy of r with the given tag and no digest. The digest
// is cleared because it would otherwise win over the new tag (see
// [Reference.Ref]). An invalid tag gives an [*Error] as from [ValidateTag].
func (r Reference) WithTag(tag string) (Reference, error) {
	if err := ValidateTag(tag); err != nil {
		return Reference{}, err
	}
	r.Tag, r.Digest = tag, ""
	return r, nil
}

// WithDigest returns a copy of r with the given digest. The tag, if any, is
// kept, giving the name:tag@digest form docker accepts; the digest is what
// [Reference.Ref] returns. Clear Tag yourself if you do not want it. An
// invalid digest gives an [*Error] as from [ValidateDigest].
func (r Reference) WithDigest(d digest.Digest) (Reference, error) {
	dg, err := ValidateDigest(string(d))
	if err != nil {
		return Reference{}, err
	}
	r.Digest = dg
	return r, nil
}
