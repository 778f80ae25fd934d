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

// PutTags returns the tags a manifest put points at the manifest: tag (the
// ref put under, or "" for a digest), then opts.Tags, checked with
// [spec.CheckTags] (TAG_INVALID), without duplicates.
func PutTags(tag string, opts *transport.PutManifestOptions) ([]string, error) {
	var tags []string
	if tag != "" {
		tags = append(tags, tag)
	}
	if opts == nil {
		return tags, nil
	}
	extra, err := spec.CheckTags(opts.Tags)
	if err != nil {
		return nil, err
	}
	for _, t := range extra {
		if t != tag {
			tags = append(tags, t)
		}
	}
	return tags, nil
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

// ManifestPut is a manifest put as every in-process backend checks it
// before it looks at its store: the ref, the condition, the body.
type ManifestPut struct {
	// Tag is the tag put under, or "" for a put by digest.
	Tag string
	// Tags are every tag the put points at the manifest: Tag, if any, then
	// the options' Tags, each checked with [spec.CheckTag], without
	// duplicates.
	Tags []string
	// Digest is the digest the body is stored under ([ManifestDigest]).
	Digest digest.Digest
	// IfMatch is the digest the tag must point at for the put to go
	// ahead, or "" ([IfMatch]).
	IfMatch digest.Digest
	// Manifest is the body, parsed and validated by [spec.ParseManifest].
	Manifest spec.Manifest
	// Blobs are the config and the layers the repository must hold for
	// the put to succeed: the layers that need not be pushed ([Foreign])
	// are left out.
	Blobs []ocispec.Descriptor
}

// CheckManifestPut checks a put of body, of mediaType, under ref, with
// opts, in the order the OCI conformance suite expects: the ref, the
// condition, the body, then its digest. Its errors are the transport
// errors a backend returns as they are.
func CheckManifestPut(ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ManifestPut, error) {
	var p ManifestPut
	var err error
	if p.Tag, p.Digest, err = spec.ParseRef(ref); err != nil {
		return ManifestPut{}, err
	}
	if p.IfMatch, err = IfMatch(p.Tag, opts); err != nil {
		return ManifestPut{}, err
	}
	if p.Tags, err = PutTags(p.Tag, opts); err != nil {
		return ManifestPut{}, err
	}
	if p.Manifest, err = spec.ParseManifest(mediaType, body); err != nil {
		return ManifestPut{}, err
	}
	if p.Digest, err = ManifestDigest(p.Digest, body); err != nil {
		return ManifestPut{}, err
	}
	if c := p.Manifest.Config; c != nil {
		p.Blobs = append(p.Blobs, *c)
	}
	for _, l := range p.Manifest.Layers {
		if !Foreign(l) {
			p.Blobs = append(p.Blobs, l)
		}
	}
	return p, nil
}
