// Package ocilayout keeps images on disk, in OCI image layouts, behind the
// same [transport.Transport] contract as registries, so that images are
// copied to and from disk with the code that copies them between registries.
//
// There are two ways in. [New] opens a directory of layouts, one per
// repository, as a [Registry]: the regkit object model (a
// [registry.Registry]) over a [Store], the on-disk implementation of
// [transport.Transport] and [transport.TagDeleter]:
//
//	reg, err := ocilayout.New("./images")
//	if err != nil { … }
//	defer reg.Close()
//	desc, err := reg.Repository("myapp1").Push(ctx, img, "3.0", "latest")
//
// after which `skopeo inspect oci:./images/myapp1:3.0` sees the image.
//
// [OpenRepository] opens one layout, the directory that
// `skopeo copy … oci:./build/oci:1.0` or BuildKit's `type=oci` output
// writes, as a [Repository]: a [repository.Repository] (push, pull, tags,
// resolve, delete) over a Store that holds that layout only:
//
//	repo, err := ocilayout.OpenRepository("./build/oci")
//	if err != nil { … }
//	defer repo.Close()
//	img, err := repo.Tag("1.0").Image(ctx)
//
// A missing or empty directory becomes a layout on the first write, as
// skopeo makes one; a directory that holds other files and no oci-layout
// file fails with [ErrNotLayout] and is left alone.
//
// # Layout on disk
//
// The directory of [New] holds one OCI image layout per repository, as the
// image-layout spec describes it
// (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// repository "team/app" is the directory team/app, with its own oci-layout
// file, index.json and blobs/<algorithm>/<encoded digest> files. A
// directory is a repository when it holds an oci-layout file; a layout that
// skopeo wrote (`skopeo copy … oci:<dir>/app:1.0`) is repository "app".
// The directory itself is never a repository. The directory of
// [OpenRepository] is the one layout, laid out the same way.
//
// Repository names are checked against the distribution grammar
// (lower-case components, no "." or "..", no absolute paths) and may not
// have a component named "blobs", "index.json" or "oci-layout", which would
// collide with the entries of an enclosing layout; they fail with
// [transport.ErrNameInvalid]. Every file is opened through an [os.Root], so
// no name and no symbolic link reaches outside the directory.
//
// # Tags and manifests
//
// A tag is an index.json entry annotated org.opencontainers.image.ref.name
// with the tag, in the short form skopeo and BuildKit write ("3.0"), which
// is the form this package writes. A ref.name that is a full reference
// with a tag and no digest ("docker.io/library/app:3.0", as some tools
// write it) is read as that tag, a short one winning when both name the
// same tag; pointing or deleting the tag replaces or removes both. Other
// ref.name values (a name without a tag, a reference by digest) are kept
// but not listed.
// Manifests are blobs like any other. Every manifest put into a repository
// is also listed in its index.json: once per tag, or, when it has no tag
// (put by digest, as the children of an index, referrers and other
// artifacts are), by one entry without ref.name. Deleting the last tag of a
// manifest leaves it listed untagged, as a registry keeps an untagged
// manifest. Listing every manifest keeps it a root for the garbage
// collectors of layout tools, and lets [Store.ListReferrers] find the
// manifests that name a subject by reading index.json instead of every
// blob; skopeo's `oci:<dir>:<tag>` only looks at the entry of its tag, so
// the untagged entries do not disturb it (skopeo's tag-less `oci:<dir>` form
// needs exactly one entry, which two tags break anyway).
//
// Layouts written by other tools need not list the children of an index:
// a manifest is found by digest among the index.json entries, then among
// the blobs (a blob of at most 4 MiB that is an image manifest or index).
// Media types come from index.json entries or, failing that, from the
// bytes ([image.DetectMediaType]).
//
// # Writes and crashes
//
// Nothing is written in place. A blob streams into a temporary file in the
// layout's .regkit-tmp directory (hidden, next to blobs/ and never under
// it, and removed again once empty) while it is hashed; only once its digest and size are verified is it
// synced and renamed into blobs/, and the directory synced. index.json and
// oci-layout are replaced the same way. A failed write (a reader error, a
// wrong digest or size, a cancelled context) removes its temporary file
// (the first write to a new repository may leave its directory, empty,
// which is no repository); a crash may leave temporary files in
// .regkit-tmp, but never a half-written blob, index.json or oci-layout where
// readers look. A manifest is written
// as a blob before index.json lists it, and unlisted before its blob is
// removed. Upload sessions are files of .regkit-tmp too, named by their ID,
// so a new Store can resume them after a restart. A repository is made by
// writing blobs/, an empty index.json and, last, oci-layout.
//
// # Reads
//
// Reads trust the layout no further than the contract needs. Blob files
// must be regular files. [Store.GetBlob] hashes what it serves and ends a
// complete read with an error matching both [transport.ErrDigestInvalid]
// and [ErrInvalidLayout], instead of io.EOF, when the file does not hash to
// its name: a corrupt blob is reported, not served silently. Manifests are
// read whole and checked the same way. A malformed oci-layout or index.json
// gives an error matching [ErrInvalidLayout].
//
// # Concurrency
//
// A Store is safe for concurrent use, and so are several Stores over one
// directory, in one process or in several: each repository has a lock (one
// of a fixed set, chosen by a hash of its name), held to read and rewrite
// its index.json and to move files into place; blobs stream in without it.
// The lock is the Store's own, and with it an exclusive lock on a file of
// the .regkit-lock directory at the top of the directory (flock on Unix
// systems, LockFileEx on Windows), which every Store over the directory
// takes, so writers never lose one another's updates. On systems with
// neither (Plan 9, WebAssembly, Solaris, AIX) only the Store's own lock is
// taken. Readers take no file lock: every file they read is replaced
// whole, by a rename. A Store of one layout ([OpenRepository]) keeps its
// .regkit-lock directory in the layout, next to blobs/, where layout tools
// ignore it; it does not exclude a Store of [New] over the parent
// directory, so do not write one layout both ways at once.
//
// # Upload sessions and repairs
//
// An upload session is a file of .regkit-tmp that the Store opens only for
// the length of a write or commit, so open sessions hold no file
// descriptors. Sessions idle for longer than [WithUploadExpiry] (one hour
// by default) are removed, and at most [WithMaxUploads] (1000) are open at
// once; past that, starting one fails with [transport.ErrTooManyRequests].
// When a Store opens, it removes the temporary files that a crash left in
// .regkit-tmp directories, when older than the expiry.
//
// Putting a blob that is there already checks the file first (size, then
// digest, by reading it), so that a file damaged on disk is replaced by
// the right bytes instead of being kept; a committed upload and a put
// manifest replace the file too.
//
// Blobs mounted from another repository ([Store.MountBlob]) are hard
// links, or copies where the file system cannot link.
package ocilayout
