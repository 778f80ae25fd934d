package spec

import (
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/transport"
)

// IsDigest reports whether the manifest reference ref is written as a
// digest rather than a tag: whether it has a colon, which a digest must
// have ("algorithm:encoded") and the tag grammar forbids. It does not check
// ref: see [ParseRef].
func IsDigest(ref string) bool { return strings.Contains(ref, ":") }

// ParseRef splits a manifest reference, the <reference> of
// /v2/<name>/manifests/<reference>, into a tag or a digest, exactly one of
// which is set. The distribution spec says it is either a tag,
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}, or a digest: a ref with a colon is a
// digest ([IsDigest]) and must be a valid one ([CheckDigest]), else it is
// DIGEST_INVALID; any other ref must be a valid tag ([CheckTag]), else it
// is TAG_INVALID.
func ParseRef(ref string) (tag string, d digest.Digest, err error) {
	if IsDigest(ref) {
		d, err = CheckDigest(ref)
		return "", d, err
	}
	if err := CheckTag(ref); err != nil {
		return "", "", err
	}
	return ref, "", nil
}

// CheckRef checks a manifest reference as [ParseRef] does.
func CheckRef(ref string) error {
	_, _, err := ParseRef(ref)
	return err
}

// CheckName returns NAME_INVALID unless name is a valid repository name:
// slash-separated components of lower-case letters and digits joined by
// '.', '_', '__' or dashes, at most 255 characters
// ([reference.ValidateRepository]). A valid name is safe in a URL path and
// a file path: it has no empty, "." or ".." component.
func CheckName(name string) error {
	if err := reference.ValidateRepository(name); err != nil {
		return invalid(transport.CodeNameInvalid, err)
	}
	return nil
}

// CheckTag returns TAG_INVALID unless tag is a valid tag: 1 to 128 of
// A-Z a-z 0-9 _ . -, not starting with '.' or '-' ([reference.ValidateTag]).
// A digest is not a tag.
func CheckTag(tag string) error {
	if err := reference.ValidateTag(tag); err != nil {
		return invalid(transport.CodeTagInvalid, err)
	}
	return nil
}

// CheckTags returns tags, the tags of one manifest put
// ([transport.PutManifestOptions.Tags]), without repeats, in the order of
// their first appearance, or TAG_INVALID unless there are at most
// [transport.MaxPutTags], each valid ([CheckTag]).
func CheckTags(tags []string) ([]string, error) {
	if len(tags) > transport.MaxPutTags {
		return nil, transport.Errorf(transport.CodeTagInvalid, "%d tags in one manifest put; at most %d", len(tags), transport.MaxPutTags)
	}
	var out []string
	for _, t := range tags {
		if err := CheckTag(t); err != nil {
			return nil, err
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// CheckDigest returns s as a digest, or DIGEST_INVALID unless it is a
// well-formed sha256, sha384 or sha512 digest with lower-case hex
// ([reference.ValidateDigest]): one that can be computed, and is safe in a
// URL path and a file path.
func CheckDigest(s string) (digest.Digest, error) {
	d, err := reference.ValidateDigest(s)
	if err != nil {
		return "", invalid(transport.CodeDigestInvalid, err)
	}
	return d, nil
}

// invalid returns the error of code for input its cause rejects. It is the
// one place this package makes an error.
func invalid(code transport.Code, cause error) error {
	return transport.Wrap(code, cause)
}

// CheckPageRequest returns SIZE_INVALID for a negative page size (n=), which
// every backend, the HTTP client included, refuses the same way.
func CheckPageRequest(req transport.PageRequest) error {
	if req.N < 0 {
		return transport.Errorf(transport.CodeSizeInvalid, "page size %d is negative", req.N)
	}
	return nil
}
