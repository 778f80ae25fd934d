package backend

import (
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// IfMatch returns the digest opts.IfMatch names for a put of a manifest
// under tag, checked with [spec.CheckDigest], or "" when opts is nil or has
// none, or when tag is "" (a put by digest, which ignores IfMatch).
func IfMatch(tag string, opts *transport.PutManifestOptions) (digest.Digest, error) {
	if opts == nil || opts.IfMatch == "" || tag == "" {
		return "", nil
	}
	return spec.CheckDigest(string(opts.IfMatch))
}

// ManifestDigest returns the digest the manifest body is stored under. d is
// the digest of the ref it was put by ([spec.ParseRef]), or "" for a put by tag:
// when set, body must hash to it with its algorithm, else the put fails
// with DIGEST_INVALID; when "", it is body's sha256 digest.
func ManifestDigest(d digest.Digest, body []byte) (digest.Digest, error) {
	if d == "" {
		return digest.SHA256.FromBytes(body), nil
	}
	if got := d.Algorithm().FromBytes(body); got != d {
		return "", transport.Errorf(transport.CodeDigestInvalid, "manifest has digest %s, not %s", got, d)
	}
	return d, nil
}

// Foreign reports whether layer need not be pushed with its manifest, as in
// the distribution registry: a layer with urls, a Docker foreign layer, or
// an OCI non-distributable layer.
func Foreign(layer ocispec.Descriptor) bool {
	return len(layer.URLs) > 0 || layer.MediaType == image.MediaTypeDockerForeignLayer ||
		strings.HasPrefix(layer.MediaType, "application/vnd.oci.image.layer.nondistributable.")
}
