// Package regkit is a Go SDK for container registries: list repositories and
// tags, push and pull images, move tags like latest, and test all of it
// against an in-memory registry.
//
// # The model
//
// regkit's types follow the way registries are organised:
//
//	Registry (a service: docker.io, ghcr.io, localhost:5000)
//	  └── Repository (a named collection: library/ubuntu, myapp1)
//	        └── Tag (a movable name: 1.0, 3.0, latest)
//	              └──> Image (immutable, addressed by digest: sha256:…)
//
// A Registry hosts repositories; a Repository holds tags; a Tag points at one
// digest-addressed Image, or at an Index of images, one per platform.
// Several tags may point at the same image ("3.0" and "latest"). Pushing
// uploads blobs, then the manifest, then names it with tags; moving a tag
// uploads nothing.
//
// # Where to start
//
//   - [Copy], in this package: copy an image or index, with its platforms
//     and referrers, from one repository to another, on one registry
//     (mounting blobs) or across registries (streaming them). [Mirror]:
//     copy all the tags of a repository (or those a filter or a version
//     constraint selects), with their referrers, to another registry or
//     to disk, in parallel, skipping the tags the target has.
//   - package registry/fake: fake.New returns an in-memory registry, for
//     tests and examples. [github.com/regkit/regkit/registry/fake]
//   - package registry: the Registry, its catalog, Repository(name).
//   - package repository: Push, Tags, Image, Blob, Referrers, Delete.
//   - package tag: Resolve, Image, Point, PointIf, Delete.
//   - package image: build an image from a config and layers; decode
//     manifests and indexes; pick a platform.
//   - package image/files: an image's filesystem, whiteouts applied: walk
//     it, flatten it to one tar (crane export), read one file.
//   - package image/validate: check an image's content end to end.
//   - package reference: parse "ubuntu:24.04" into registry, repository,
//     tag and digest.
//   - package auth: credentials from Docker's config.json, credential
//     helpers and podman's auth.json, and the token dance; registry.WithAuth
//     puts them to use.
//   - package transport: the one seam between the model and a backend
//     (the Transport contract and its optional interfaces, found through
//     Unwrap chains with transport.Find, so decorators keep them), and the
//     one vocabulary of typed errors every operation returns (ErrNotFound,
//     ErrManifestUnknown, …), matched with errors.Is.
//   - package transport/remote: the HTTP client of real registries, which
//     registry.New builds; package transport/server: any Transport served
//     as the OCI distribution API (the fake over HTTP, a proxy).
//   - package repository/progress: one stream of progress events for push,
//     pull and copy.
//   - package registry/registrytest: the behaviour suite, to run against
//     your own Transport.
//
// Every operation that does I/O takes a context; constructors never do I/O;
// every byte read is verified against its digest.
//
// # Zero and negative settings
//
// Every bound and timeout of the module, in an options struct
// ([CopyOptions].MaxReferrers, the MaxPages of a listing) or given to a
// function option (fake.WithMaxUploads, ocilayout.WithUploadExpiry,
// server.WithBodyTimeout, …), reads the same way: zero means the default,
// which each one documents, and a negative value turns it off: no limit,
// no expiry, no timeout (for fake.WithRequestLog, no log; for
// remote.WithSinglePOSTMax, no single-POST uploads). Settings that cannot
// be off (a client's concurrency and chunk size, the most it reads of a
// registry's answer) take zero as the default too, and refuse a negative
// value with an error.
//
// The quickstart shows the whole model in sixty lines:
//
//	go run ./examples/quickstart
package regkit
