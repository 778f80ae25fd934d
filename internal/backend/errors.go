package backend

import (
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// NameUnknown returns the NAME_UNKNOWN error for repository repo.
func NameUnknown(repo string) error {
	return transport.Errorf(transport.CodeNameUnknown, "repository %q not found", repo)
}

// BlobUnknown returns the BLOB_UNKNOWN error for the blob d of repo.
func BlobUnknown(repo string, d digest.Digest) error {
	return transport.Errorf(transport.CodeBlobUnknown, "blob %s not found in repository %q", d, repo)
}

// ManifestUnknown returns the MANIFEST_UNKNOWN error for the manifest d of
// repo.
func ManifestUnknown(repo string, d digest.Digest) error {
	return transport.Errorf(transport.CodeManifestUnknown, "manifest %s not found in repository %q", d, repo)
}

// TagUnknown returns the MANIFEST_UNKNOWN error for the tag of repo (the
// distribution spec has no tag-unknown code).
func TagUnknown(repo, tag string) error {
	return transport.Errorf(transport.CodeManifestUnknown, "tag %q not found in repository %q", tag, repo)
}

// ManifestBlobUnknown returns the MANIFEST_BLOB_UNKNOWN error for what a
// manifest put in repo references and repo lacks: kind is "blob" (a config
// or layer) or "manifest" (a child of an index), d its digest.
func ManifestBlobUnknown(kind string, d digest.Digest, repo string) error {
	return transport.Errorf(transport.CodeManifestBlobUnknown, "%s %s not found in repository %q", kind, d, repo)
}

// ManifestInvalid returns a MANIFEST_INVALID error whose cause is
// formatted as by [fmt.Errorf]: an error formatted with %w (one of package
// image's, such as
// [github.com/regkit/regkit/image.ErrInvalid]) is kept, and matches.
func ManifestInvalid(format string, args ...any) error {
	return transport.Wrap(transport.CodeManifestInvalid, fmt.Errorf(format, args...))
}
