// Package transport is the seam of regkit: the [Transport] contract of typed
// registry operations that every backend implements, and the typed errors
// they report.
//
// Three backends implement it: the in-memory registry in
// [github.com/regkit/regkit/registry/fake], an HTTP client for real
// registries, and a store over OCI image layouts on disk. Everything above it
// (pushing images, moving tags, listing lazily, verifying digests) is written
// once, in the repository, tag and registry packages.
//
// # Errors
//
// Registry conditions are reported as [*Error] values carrying an OCI error
// code. Match them with [errors.Is] against the sentinels ([ErrManifestUnknown],
// [ErrBlobUnknown], [ErrNameInvalid], …) or [ErrNotFound]; read the code,
// message and detail with [errors.As].
//
// The contract follows the OCI distribution spec v1.1:
// https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md
package transport
