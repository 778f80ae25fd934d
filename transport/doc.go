// Package transport is the seam of regkit: the [Transport] contract of typed
// registry operations that every backend implements, and the typed errors
// they report.
//
// Two backends implement it: the in-memory registry in
// [github.com/regkit/regkit/registry/fake], and [Client], the HTTP client
// for real registries. [Handler] serves any Transport as the OCI
// distribution API: over the in-memory store it is a fake registry real
// clients can use. Everything above the contract (pushing images, moving
// tags, listing lazily, verifying digests) is written once, in the
// repository, tag and registry packages.
//
// # The HTTP client
//
// [NewClient] does no I/O. What a registry can do (a referrers API, tag
// DELETE, single-POST uploads, honouring If-Match, Range requests, the
// minimum chunk size) is found out on first use and remembered by the
// Client, so no operation probes twice. Pushing a blob costs one request
// when the repository already has it (a mount from the repository itself
// answers 201) and two when it does not.
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
