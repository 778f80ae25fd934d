// Package transport is the seam of regkit: the [Transport] contract of typed
// registry operations that every backend implements, and the typed errors
// they report.
//
// Three backends implement it: the in-memory registry in
// [github.com/regkit/regkit/registry/fake], a directory of OCI image
// layouts in [github.com/regkit/regkit/registry/ocilayout], and [Client],
// the HTTP client for real registries. [Handler] serves any Transport as the OCI
// distribution API: over the in-memory store it is a fake registry real
// clients can use; serve it with [NewServer], whose timeouts cut off clients
// that hold connections without sending. Everything above the contract (pushing images, moving
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
// The client retries what is safe to retry (429, 502, 503, 504, dropped
// connections) with jittered backoff and Retry-After ([WithRetry]),
// resumes broken blob downloads with Range, and bounds the blob transfers
// of all operations on one registry ([WithMaxConcurrency], [Limiter]).
// Credentials added by the caller's round tripper stay on the registry's
// origin: redirects elsewhere go through another round tripper
// ([WithRedirectRoundTripper]) under a redirect policy
// ([DefaultRedirectPolicy], [WithRedirectPolicy]). Authentication is a
// [Middleware] (see github.com/regkit/regkit/registry.WithAuth).
//
// # Progress
//
// [WithProgress] puts an observer in a context: push, pull and copy report
// to it what happens to each blob and manifest, one event stream for all
// three.
//
// # Errors
//
// Registry conditions are reported as [*Error] values carrying an OCI error
// code. Match them with [errors.Is] against the sentinels ([ErrManifestUnknown],
// [ErrBlobUnknown], [ErrNameInvalid], …) or [ErrNotFound]; read the code,
// message and detail with [errors.As].
//
// # Limits
//
// The [Client] bounds what a registry's answers can make it hold or do,
// whatever the registry sends: a page of tags or of the catalog is read up
// to [DefaultMaxListSize] bytes once decompressed and [DefaultMaxListEntries]
// entries ([WithMaxListSize], [WithMaxListEntries]); a page of referrers up
// to the manifest size ([WithMaxManifestSize]) and [MaxReferrersPerPage]
// descriptors; a listing follows at most [DefaultMaxPages] pages unless its
// options say otherwise, and stops with [ErrPageLoop] at a next-page link
// it has followed before; an upload held in memory a chunk at a time honours
// a chunk minimum (OCI-Chunk-Min-Length) up to [DefaultMaxChunkMin] or the
// chunk size. Past a limit, the operation fails with a [*LimitError], which
// matches [ErrLimitExceeded], having read no more than the limit. Error
// bodies are read up to 64 KiB.
//
// The contract follows the OCI distribution spec v1.1:
// https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md
package transport
