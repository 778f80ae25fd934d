package backend

import (
	"context"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/transport"
)

// Begin returns ctx's error if it is done, else NAME_INVALID unless repo is
// a valid repository name ([CheckRepo]). Every method of a Transport that
// names a repository starts with it.
func Begin(ctx context.Context, repo string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return CheckRepo(repo)
}

// CheckRepo returns NAME_INVALID unless name is a valid repository name, as
// [reference.ValidateRepository] checks it.
func CheckRepo(name string) error {
	if err := reference.ValidateRepository(name); err != nil {
		return transport.Wrap(transport.CodeNameInvalid, err)
	}
	return nil
}

// CheckDigest returns d as a digest, or DIGEST_INVALID unless it is a
// well-formed sha256, sha384 or sha512 digest ([reference.ValidateDigest]):
// one a store can compute, and safe in a file path.
func CheckDigest(d string) (digest.Digest, error) {
	dg, err := reference.ValidateDigest(d)
	if err != nil {
		return "", transport.Wrap(transport.CodeDigestInvalid, err)
	}
	return dg, nil
}

// ParseRef splits ref into a tag or a digest, exactly one of which is set:
// ref is a digest if it contains a colon. Malformed refs give TAG_INVALID or
// DIGEST_INVALID.
func ParseRef(ref string) (tag string, d digest.Digest, err error) {
	if strings.Contains(ref, ":") {
		d, err = CheckDigest(ref)
		return "", d, err
	}
	if err := reference.ValidateTag(ref); err != nil {
		return "", "", transport.Wrap(transport.CodeTagInvalid, err)
	}
	return ref, "", nil
}

// CheckPageRequest returns SIZE_INVALID for a negative page size.
func CheckPageRequest(req transport.PageRequest) error {
	if req.N < 0 {
		return transport.Errorf(transport.CodeSizeInvalid, "page size %d is negative", req.N)
	}
	return nil
}

// CheckCommit returns the digest of want, the descriptor an upload session
// is committed as, or DIGEST_INVALID for a malformed digest ([CheckDigest])
// and SIZE_INVALID for a negative size. A size of 0 means unknown.
func CheckCommit(want ocispec.Descriptor) (digest.Digest, error) {
	d, err := CheckDigest(string(want.Digest))
	if err != nil {
		return "", err
	}
	if want.Size < 0 {
		return "", transport.Errorf(transport.CodeSizeInvalid, "blob %s: negative size %d", d, want.Size)
	}
	return d, nil
}

// Verify checks size bytes that hash to got against the blob want of
// wantSize bytes: SIZE_INVALID when the sizes differ, else DIGEST_INVALID
// when the digests do. A wantSize of 0 (or less) is not checked.
func Verify(want digest.Digest, wantSize int64, got digest.Digest, size int64) error {
	if wantSize > 0 && size != wantSize {
		if size > wantSize {
			return transport.Errorf(transport.CodeSizeInvalid, "blob %s: got more than the %d bytes declared", want, wantSize)
		}
		return transport.Errorf(transport.CodeSizeInvalid, "blob %s: got %d bytes, %d declared", want, size, wantSize)
	}
	if got != want {
		return transport.Errorf(transport.CodeDigestInvalid, "blob content has digest %s, not %s", got, want)
	}
	return nil
}
