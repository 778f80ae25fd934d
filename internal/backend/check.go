package backend

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// Begin returns ctx's error if it is done, else NAME_INVALID unless repo is
// a valid repository name ([spec.CheckName]). Every method of a Transport that
// names a repository starts with it.
func Begin(ctx context.Context, repo string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return spec.CheckName(repo)
}

// CheckCommit returns the digest of want, the descriptor an upload session
// is committed as, or DIGEST_INVALID for a malformed digest ([spec.CheckDigest])
// and SIZE_INVALID for a negative size. A size of 0 means unknown.
func CheckCommit(want ocispec.Descriptor) (digest.Digest, error) {
	d, err := spec.CheckDigest(string(want.Digest))
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
