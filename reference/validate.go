package reference

import (
	// Register sha256, sha384 and sha512 with crypto, so that go-digest
	// reports them Available wherever regkit is imported.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"regexp"
	"strings"

	distref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// maxTagLength is the longest tag the reference grammar allows.
const maxTagLength = 128

// probeHost prefixes a repository path so that distribution/reference
// checks the path alone, never reading its first component as a host.
const probeHost = "localhost"

var (
	// anchoredDomain is distribution/reference's host[:port] grammar,
	// anchored at both ends.
	anchoredDomain = regexp.MustCompile(`^(?:` + distref.DomainRegexp.String() + `)$`)

	// probeName is a valid name to hang tags and digests on when checking
	// them with distribution/reference.
	probeName = mustName(probeHost + "/probe")
)

func mustName(s string) distref.Named {
	n, err := distref.WithName(s)
	if err != nil {
		panic(err)
	}
	return n
}

// ValidateRegistry checks a registry host with an optional port:
// "ghcr.io", "localhost:5000", "[::1]:5000". It returns an [*Error] that
// matches [ErrEmpty] or [ErrInvalidRegistry], or nil.
func ValidateRegistry(host string) error {
	if err := checkRegistry(host); err != nil {
		return &Error{Input: host, Part: PartRegistry, Err: err, alone: true}
	}
	return nil
}

// ValidateRepository checks a repository path such as "library/ubuntu" or
// "myorg/myapp1". The path is checked as it is: no part of it is read as a
// registry host, and "library/" is not added. It returns an [*Error] that
// matches [ErrEmpty], [ErrUppercase], [ErrNameTooLong] or
// [ErrInvalidRepository] (which all its errors match), or nil.
func ValidateRepository(name string) error {
	if err := checkRepository(name); err != nil {
		return &Error{Input: name, Part: PartRepository, Err: err, alone: true}
	}
	return nil
}

// ValidateTag checks a tag: 1 to 128 of A-Z, a-z, 0-9, '_', '.' and '-',
// not starting with '.' or '-'. It returns an [*Error] that matches
// [ErrEmpty], [ErrTagTooLong] or [ErrInvalidTag] (which all its errors
// match), or nil.
func ValidateTag(tag string) error {
	if err := checkTag(tag); err != nil {
		return &Error{Input: tag, Part: PartTag, Err: err, alone: true}
	}
	return nil
}

// ValidateDigest parses and checks a digest such as "sha256:<64 hex>". The
// algorithm must be sha256, sha384 or sha512, and the encoded part lower-case
// hex of the algorithm's length. It returns an [*Error] that matches
// [ErrEmpty], [ErrUnsupportedDigestAlgorithm], [ErrDigestLength] or
// [ErrInvalidDigest] (which all its errors match).
func ValidateDigest(d string) (digest.Digest, error) {
	dg, err := checkDigest(d)
	if err != nil {
		return "", &Error{Input: d, Part: PartDigest, Err: err, alone: true}
	}
	return dg, nil
}

func checkRegistry(host string) error {
	if host == "" {
		return ErrEmpty
	}
	if !anchoredDomain.MatchString(host) {
		return ErrInvalidRegistry
	}
	return nil
}

func checkRepository(name string) error {
	if name == "" {
		return ErrEmpty
	}
	if plainRepository(name) {
		return nil
	}
	_, err := distref.WithName(probeHost + "/" + name)
	if err == nil {
		return nil
	}
	if errors.Is(err, distref.ErrNameTooLong) {
		return detail(ErrNameTooLong, "%s, got %d", ErrNameTooLong, len(name))
	}
	if lower := strings.ToLower(name); lower != name {
		_, lerr := distref.WithName(probeHost + "/" + lower)
		if lerr == nil || errors.Is(lerr, distref.ErrNameTooLong) {
			return ErrUppercase
		}
	}
	return ErrInvalidRepository
}

// plainRepository reports whether name is a repository path by
// distribution/reference's grammar, checked by hand so that a valid name,
// which every request to a registry carries, costs no allocation: path
// components of [a-z0-9]+ joined by ".", "_", "__" or dashes, separated by
// "/", at most 255 bytes in all. What it refuses, distribution/reference
// checks again, to say why.
func plainRepository(name string) bool {
	if name == "" || len(name) > distref.RepositoryNameTotalLengthMax {
		return false
	}
	for rest, more := name, true; more; {
		var comp string
		comp, rest, more = strings.Cut(rest, "/")
		if !plainComponent(comp) {
			return false
		}
	}
	return true
}

// plainComponent reports whether c is one path component of a repository:
// alphanumerics, then any number of a separator and alphanumerics.
func plainComponent(c string) bool {
	i := 0
	for {
		start := i
		for i < len(c) && (c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9') {
			i++
		}
		if i == start {
			return false // empty, or a separator not between alphanumerics
		}
		if i == len(c) {
			return true
		}
		switch c[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(c) && c[i] == '_' {
				i++
			}
		case '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

func checkTag(tag string) error {
	if tag == "" {
		return ErrEmpty
	}
	if validTag(tag) {
		return nil
	}
	if len(tag) > maxTagLength && tagCharsValid(tag) {
		return detail(ErrTagTooLong, "%s, got %d", ErrTagTooLong, len(tag))
	}
	return ErrInvalidTag
}

func validTag(tag string) bool {
	_, err := distref.WithTag(probeName, tag)
	return err == nil
}

// tagCharsValid reports whether tag, which distribution/reference rejected,
// would be accepted but for its length. It checks the first 128 characters as
// a tag, and the rest in chunks behind a "_" (a legal first character), so
// that the grammar itself judges every character.
func tagCharsValid(tag string) bool {
	if !validTag(tag[:maxTagLength]) {
		return false
	}
	for i := maxTagLength; i < len(tag); i += maxTagLength - 1 {
		if !validTag("_" + tag[i:min(i+maxTagLength-1, len(tag))]) {
			return false
		}
	}
	return true
}

func checkDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err == nil {
		return d, nil
	}
	if s == "" {
		return "", ErrEmpty
	}
	alg, enc, _ := strings.Cut(s, ":")
	a := digest.Algorithm(alg)
	switch {
	case errors.Is(err, digest.ErrDigestUnsupported):
		return "", detail(ErrUnsupportedDigestAlgorithm, "%s %q (want sha256, sha384 or sha512)", ErrUnsupportedDigestAlgorithm, alg)
	case errors.Is(err, digest.ErrDigestInvalidLength):
		return "", detail(ErrDigestLength, "%s takes %d hex digits, got %d", alg, a.Size()*2, len(enc))
	case a.Available() && enc != "":
		return "", detail(ErrInvalidDigest, "%s takes lower-case hex digits (0-9, a-f)", alg)
	}
	return "", ErrInvalidDigest
}

// diagnose finds the part to blame in s, which distribution/reference
// rejected with cause. It cuts s where the grammar puts its separators
// (name, ":" tag, "@" digest; the registry before the first "/" when Docker
// reads it as a host) and checks each part on its own, left to right, with
// the Validate functions. If every part passes on its own, cause is mapped
// onto the sentinels as it is.
func diagnose(s string, cause error) *Error {
	name, dgst, hasDigest := strings.Cut(s, "@")
	name, tag, hasTag := cutTag(name)
	host, repo, hasHost := cutHost(name)
	var part Part
	var err error
	switch {
	case hasHost && checkRegistry(host) != nil:
		part, err = PartRegistry, checkRegistry(host)
	case checkRepository(repo) != nil:
		part, err = PartRepository, checkRepository(repo)
	case hasTag && checkTag(tag) != nil:
		part, err = PartTag, checkTag(tag)
	case hasDigest:
		if _, derr := checkDigest(dgst); derr != nil {
			part, err = PartDigest, derr
		}
	}
	if err == nil {
		return fromCause(s, cause)
	}
	return &Error{Input: s, Part: part, Err: err}
}

// cutTag cuts name[:tag] at the last ':' after the last '/', so that a port
// ("localhost:5000/x") is never taken for a tag.
func cutTag(s string) (name, tag string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i < strings.LastIndexByte(s, '/') {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// cutHost splits off the first path component when Docker reads it as a
// registry host: "localhost", or a component with a '.' or ':', or with an
// upper-case letter (which a repository cannot have). This mirrors how
// distribution/reference's ParseNormalizedNamed splits a name; it is used only
// to blame a part once that function has rejected the input.
func cutHost(name string) (host, repo string, ok bool) {
	first, rest, found := strings.Cut(name, "/")
	if !found {
		return "", name, false
	}
	if first == "localhost" || strings.ContainsAny(first, ".:") || strings.ToLower(first) != first {
		return first, rest, true
	}
	return "", name, false
}
