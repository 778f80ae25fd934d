package transport

import (
	"context"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Transport is the contract every registry backend implements: the typed
// operations of the OCI distribution API, and nothing that can be built on top
// of them. Push, copy, tag moves, pagination as iterators and digest
// verification of what is read live above it, in the repository, tag and
// registry packages, so they behave the same whatever the backend.
//
// Repository names are the path part of a reference ("library/ubuntu",
// "myapp1"); refs are either a tag ("3.0") or a digest ("sha256:…").
//
// Implementations must be safe for concurrent use, must report failures with
// the errors of this package (so callers can match them with [errors.Is]) and
// must never make content visible before it has been verified: a blob only
// under the digest of its bytes, a manifest only once everything it references
// is present.
//
// Some backends have capabilities beyond the contract, each an optional
// interface of this package: a retry policy ([Retrier]), a limit on
// concurrent transfers ([Limiter]), an identity for "same registry"
// ([Originer]), tag deletion ([TagDeleter]), connections to close
// ([IdleCloser]). Code looks for them with [Find]. A decorator (a Transport
// that wraps another to log, measure or alter its calls, often as a struct
// embedding it) should implement
//
//	Unwrap() Transport
//
// returning the transport it wraps, as an error wrapper implements Unwrap()
// error: [Find] follows that method, so the capabilities of the wrapped
// transport stay available through the decorator. Without it, a struct
// embedding a Transport hides them, and what relies on them silently
// changes: no retries, no concurrency limit, copies instead of mounts.
type Transport interface {
	ManifestFetcher
	ManifestPusher
	ManifestDeleter
	BlobFetcher
	BlobPusher
	BlobDeleter
	Uploader
	TagLister
	Cataloger
	ReferrerLister
}

// ManifestFetcher reads manifests.
type ManifestFetcher interface {
	// GetManifest returns the descriptor and exact bytes of the manifest that
	// ref names in repo. Unknown refs give [ErrManifestUnknown]; unknown
	// repositories give [ErrNameUnknown] when the backend can tell, and
	// ErrManifestUnknown otherwise (see "Not found" in the package doc: the
	// model makes both match ErrManifestUnknown).
	GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error)
	// HeadManifest returns the descriptor of the manifest that ref names,
	// without its bytes. It reports unknown refs and repositories as
	// GetManifest does; over HTTP a HEAD has no body, so both are
	// [ErrManifestUnknown] there.
	HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error)
}

// ManifestPusher stores manifests.
type ManifestPusher interface {
	// PutManifest stores body, a manifest of the given media type, in repo
	// under ref. If ref is a digest it must be the digest of body; if it is a
	// tag, the manifest is stored under its digest and the tag is pointed at
	// it, in one step. A manifest that references a blob or child manifest
	// the repository lacks is refused with [ErrManifestBlobUnknown] and
	// nothing changes. opts may be nil.
	PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *PutManifestOptions) (ocispec.Descriptor, error)
}

// PutManifestOptions are the optional settings of [ManifestPusher.PutManifest].
// The zero value means an unconditional put.
type PutManifestOptions struct {
	// IfMatch, when set, makes a put under a tag conditional: it succeeds only
	// if the tag currently points at this digest, and otherwise fails with
	// [ErrPreconditionFailed]. Use it to move a tag without losing a
	// concurrent writer's update.
	IfMatch digest.Digest
	// Tags are more tags to point at the manifest in the same put. With a
	// put by digest, each then names the manifest by that digest, its
	// algorithm included (a put under a tag stores the manifest under its
	// sha256 digest): over HTTP they go as the tag query parameters of the
	// distribution spec's next version (PUT /v2/<name>/manifests/<digest>?tag=…),
	// and a tag the registry does not confirm (with an OCI-Tag response
	// header) is put by tag after, which names the manifest by its sha256
	// digest there. Each must be a valid tag, and there may be at most
	// [MaxPutTags] of them, else the put fails with [ErrTagInvalid] and
	// nothing changes. IfMatch applies to ref only.
	Tags []string
}

// MaxPutTags is how many tags [PutManifestOptions.Tags] may hold: every
// backend of regkit, its HTTP server ("?tag=" parameters) and its HTTP
// client refuse more with [ErrTagInvalid], so that one request cannot make
// a registry rewrite its tags without bound.
const MaxPutTags = 100

// ManifestDeleter deletes manifests and tags.
type ManifestDeleter interface {
	// DeleteManifest deletes what ref names in repo. For a digest it deletes
	// the manifest and every tag that points at it; for a tag, only the tag.
	// Backends that cannot delete a tag on its own fail with
	// [ErrUnsupported]; see [TagDeleter].
	DeleteManifest(ctx context.Context, repo, ref string) error
}

// BlobFetcher reads blobs.
type BlobFetcher interface {
	// StatBlob returns the descriptor (digest and size) of a blob in repo,
	// or [ErrBlobUnknown].
	StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error)
	// GetBlob opens a blob of repo for reading. The caller must close it.
	// The reader may also implement [io.Seeker]; callers that can use random
	// access (Range requests) look for it. GetBlob does not promise to verify
	// the bytes: callers that need verified content wrap the reader.
	GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error)
}

// BlobPusher stores blobs whose digest is known in advance.
type BlobPusher interface {
	// PutBlob stores the bytes read from r in repo as the blob desc
	// describes (digest, and size when it is positive), streaming them. The
	// blob becomes visible only if the bytes match: otherwise it fails with
	// [ErrDigestInvalid] or [ErrSizeInvalid] and nothing is stored.
	//
	// When the repository already has the blob, PutBlob returns nil and may
	// not read r at all: callers need not check first, and should hand in a
	// reader that opens its source lazily.
	PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error
	// MountBlob makes the blob d of repository from available in repo
	// without copying its bytes. It fails with [ErrBlobUnknown] when from
	// lacks the blob, and with [ErrUnsupported] when the backend cannot
	// mount; callers then fall back to copying.
	MountBlob(ctx context.Context, repo, from string, d digest.Digest) error
}

// BlobDeleter deletes blobs.
type BlobDeleter interface {
	// DeleteBlob removes the blob d from repo.
	DeleteBlob(ctx context.Context, repo string, d digest.Digest) error
}

// Uploader runs resumable upload sessions, for blobs whose digest is known
// only once all their bytes have been written (and to serve the chunked
// uploads of the HTTP API).
type Uploader interface {
	// StartUpload opens a new upload session in repo.
	StartUpload(ctx context.Context, repo string) (BlobWriter, error)
	// ResumeUpload returns the open session id of repo, or
	// [ErrBlobUploadUnknown].
	ResumeUpload(ctx context.Context, repo, id string) (BlobWriter, error)
}

// BlobWriter is an open upload session. Bytes written to it are staged, not
// visible; Commit makes them a blob, Cancel discards them. A BlobWriter is not
// safe for concurrent use.
type BlobWriter interface {
	io.Writer
	// ID identifies the session for [Uploader.ResumeUpload].
	ID() string
	// Size reports how many bytes the session holds so far.
	Size() int64
	// Commit ends the session and stores its bytes as the blob want
	// describes. If the bytes do not hash to want.Digest (or, when
	// want.Size is positive, do not have that size) it fails with
	// [ErrDigestInvalid] or [ErrSizeInvalid] and the session is discarded.
	Commit(ctx context.Context, want ocispec.Descriptor) error
	// Cancel ends the session and discards its bytes.
	Cancel(ctx context.Context) error
}

// TagLister lists the tags of a repository.
type TagLister interface {
	// ListTags returns one page of repo's tags in lexical order.
	ListTags(ctx context.Context, repo string, req PageRequest) (Page[string], error)
}

// Cataloger lists the repositories of a registry.
type Cataloger interface {
	// ListRepositories returns one page of repository names in lexical
	// order. Registries that do not offer a catalog fail with
	// [ErrUnsupported].
	ListRepositories(ctx context.Context, req PageRequest) (Page[string], error)
}

// ReferrerLister lists the manifests that name another as their subject.
type ReferrerLister interface {
	// ListReferrers returns one page of the descriptors of manifests in repo
	// whose subject is the manifest subject, restricted to artifactType
	// when it is not empty.
	ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req PageRequest) (Page[ocispec.Descriptor], error)
}

// PageRequest asks for one page of a list. The zero value asks for the first
// page, of a size the backend chooses.
type PageRequest struct {
	// N is the largest number of entries wanted (the n= query parameter).
	// If zero, the backend chooses.
	N int
	// Last starts the list after this entry (the last= query parameter).
	// It is used only when Next is empty.
	Last string
	// Next is the opaque cursor of a previous [Page]; when set it wins over
	// Last.
	Next string
}

// Page is one page of a list.
type Page[T any] struct {
	// Items holds the entries of this page.
	Items []T
	// Next is the cursor of the following page, or "" when this page is the
	// last one. Pass it back in [PageRequest.Next].
	Next string
}
