// Package spec holds what the OCI distribution and image specifications
// say is a valid repository name, tag, digest, manifest reference and
// manifest, checked once for every side of regkit: the HTTP client
// (transport/remote), the HTTP server (transport/server) and its path
// parser (internal/route), the in-process backends (registry/fake,
// registry/ocilayout, through internal/backend) and the object model
// (repository, the root package's Copy).
//
// The name says where the rules come from, so that a newcomer looks here
// for "is this a valid tag?" and nowhere else: every answer is the spec's,
// and where the spec leaves room, that of the distribution registry (the
// CNCF reference implementation), as each function's comment says.
//
// Every error is a [transport.Error] with the spec's code (NAME_INVALID,
// TAG_INVALID, DIGEST_INVALID, MANIFEST_INVALID), made in one place (the
// unexported invalid), so that how an error carries its cause is decided
// there.
package spec
