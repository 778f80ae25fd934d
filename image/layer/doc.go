// Package layer makes image layers from content and opens them again.
//
// A layer is a tar archive of files, usually compressed, that an image
// stacks on the layers below it. Its descriptor names the digest of its
// compressed bytes; the image's config names, in rootfs.diff_ids, the
// digest of its uncompressed tar. This package keeps the two in step.
//
// [Decompress] opens the uncompressed tar of a layer by its media type.
package layer
