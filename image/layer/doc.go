// Package layer makes image layers from content and opens them again.
//
// A layer is a tar archive of files, usually compressed, that an image
// stacks on the layers below it. Its descriptor names the digest of its
// compressed bytes; the image's config names, in rootfs.diff_ids, the
// digest of its uncompressed tar. This package keeps the two in step.
//
// # Building
//
// [FromDir], [FromFS], [FromFiles] and [FromTar] return a [*Layer], a
// recipe that reads nothing yet. Encoding it reads the input once and
// computes, on the way, the digest and size of the compressed bytes and
// the diff_id, holding no more than a few buffers in memory. Layers are
// reproducible: sorted entries, a fixed modification time (the Unix epoch,
// or [WithModTime]), owner 0:0 and no user names unless the input says
// otherwise, gzip at [DefaultGzipLevel] (or [WithCompression]), OCI media
// types. Modes are not normalised unless asked: [FromDir] and [FromFS]
// copy the permission bits from disk, so a checkout made under umask 002
// (files 0664) gives another digest than one made under 022 (0644); pass
// [WithNormalModes] for layers that must match across machines. Entry names are cleaned; absolute names and names that lead out
// of the root are refused with an [*EntryError].
//
// There are three ways to use the result. [Layer.Encode] writes the bytes
// to any io.Writer and returns their [Info] (descriptor and diff_id).
// [Layer.Spool] writes them to a temporary file, for when the digest is
// needed before the upload (an image built with image.New):
//
//	sp, err := layer.FromDir("./app").Spool(ctx, "")
//	defer sp.Remove()
//	blob := image.NewBlob(sp.Descriptor, sp.Open) // and sp.DiffID for the config
//
// repository.PushLayer uploads the bytes as they are made, in the same
// pass, and returns the Info once the registry has them:
//
//	info, err := repo.PushLayer(ctx, layer.FromDir("./app"))
//
// # Reading
//
// [Decompress] opens the uncompressed tar of a layer by its media type:
// gzip, zstd (its window bounded by [MaxZstdWindow]) or plain tar.
package layer
