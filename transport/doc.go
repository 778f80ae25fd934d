// Package transport is the seam of regkit: the [Transport] contract of typed
// registry operations that every backend implements, and the typed errors
// they report.
//
// Three backends implement it: the in-memory registry in
// [github.com/regkit/regkit/registry/fake], a directory of OCI image
// layouts in [github.com/regkit/regkit/registry/ocilayout], and the HTTP
// client for real registries in [github.com/regkit/regkit/transport/remote].
// [github.com/regkit/regkit/transport/server] serves any Transport as the
// OCI distribution API: over the in-memory store it is a fake registry real
// clients can use; over the HTTP client, a proxy. Everything above the
// contract (pushing images, moving tags, listing lazily, verifying digests)
// is written once, in the repository, tag and registry packages.
//
// The package holds only the contract, so a backend that implements it
// links neither the client nor the server.
//
// # Optional interfaces and decorators
//
// Capabilities only some backends have (a retry policy, a limit on
// concurrent transfers, an origin that says "same registry", tag deletion
// without a tag DELETE, idle connections to close) are optional interfaces:
// [Retrier], [Limiter], [Originer], [TagDeleter], [IdleCloser], and
// [Flusher] and [BlobTruncater] on a [BlobWriter]. Code finds a transport's
// with [Find], which follows the Unwrap() Transport methods of decorators,
// as [net/http.ResponseController] follows those of ResponseWriters:
//
//	type logged struct{ transport.Transport }
//
//	func (l logged) Unwrap() transport.Transport { return l.Transport }
//
// A decorator without Unwrap hides the capabilities of what it wraps: a push
// through it is not retried, a copy within one registry downloads and
// uploads each blob instead of mounting it.
//
// # Errors
//
// Registry conditions are reported as [*Error] values carrying an OCI error
// code. Match them with [errors.Is] against the sentinels ([ErrManifestUnknown],
// [ErrBlobUnknown], [ErrNameInvalid], …) or [ErrNotFound]; read the code,
// message and detail with [errors.As]. The sentinels are constants: each is
// its [Code], which is an error, so no caller can change what they match.
//
// An [*Error] may carry a cause ([Wrap], [Error.Unwrap]), which errors.Is and
// errors.As also find: an invalid name or tag given to the model is an
// [*Error] of code NAME_INVALID or TAG_INVALID wrapping the
// [github.com/regkit/regkit/reference.Error] that says what is wrong, so it
// matches both [ErrTagInvalid] and reference.ErrInvalidTag, and reads
//
//	tag invalid: tag "-x": must be 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -
//
// # Not found
//
// What a caller can rely on, whatever the backend: a missing tag or digest,
// in a repository that exists or in one that does not, matches
// [ErrManifestUnknown] (and so [ErrNotFound]) from every method of the model
// that reads a manifest: Resolve, Exists, Manifest, Image, PlatformImage and
// Index of a tag or a repository. When the backend knows that the repository
// itself is missing the error matches [ErrNameUnknown] too; not every backend
// can tell (a HEAD has no body, and the distribution registry answers
// MANIFEST_UNKNOWN for an unknown repository), so never rely on
// ErrNameUnknown alone to mean "no such manifest":
//
//	if errors.Is(err, transport.ErrManifestUnknown) { … } // a missing tag, anywhere
//
// A [Transport] itself reports what its backend says ([ManifestFetcher]); the
// model adds ErrManifestUnknown to ErrNameUnknown, once, for every backend.
//
// A request refused because it would have left its origin (a credential or
// an upload sent to another host) is an [*OriginError].
//
// # Limits
//
// Listings follow at most [DefaultMaxPages] pages unless their options say
// otherwise, and stop with [ErrPageLoop] at a next-page link they have
// followed before. A backend that stops at one of its limits fails with a
// [*LimitError], which matches [ErrLimitExceeded].
//
// The contract follows the OCI distribution spec v1.1:
// https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md
package transport
