// Package files reads the filesystem of an image: the files its layers add,
// change and delete, seen as one tree, the way a container sees it.
//
//	err := files.Walk(ctx, img, func(hdr *tar.Header, r io.Reader) error {
//		fmt.Println(hdr.Name)
//		return nil
//	})
//	err = files.Flatten(ctx, img, w)                        // one tar, like crane export
//	data, err := files.ReadFile(ctx, img, "etc/os-release") // one file, like os.ReadFile
//
// # How layers combine
//
// Each layer is a tar, opened by its media type with [layer.Decompress]
// (gzip, zstd or plain). Layers are read from the top of the image (the last
// layer of the manifest) down to the base, and each file is reported once,
// in the version of the topmost layer that has it. The OCI whiteouts
// (image-spec layer.md, "Whiteouts") are applied:
//   - an entry ".wh.NAME" deletes NAME, and all under it, from the lower
//     layers; the whiteout itself is never reported;
//   - an entry ".wh..wh..opq" in a directory hides everything under that
//     directory in the lower layers (the directory itself stays);
//   - whiteouts apply to lower layers only: an entry in the same layer as a
//     whiteout naming it stays visible, wherever it comes in the tar;
//   - a whiteout for a path no lower layer has is ignored;
//   - a non-directory in an upper layer hides everything under its path in
//     the lower layers (a directory cannot hold files once replaced by a file
//     or a symlink), and a directory in an upper layer, even one only implied
//     by the files under it, hides lower non-directories at its path.
//
// The spec forbids a path twice in one layer. When it happens, the last
// entry wins, as when the tar is extracted: [Walk] reports each occurrence
// in tar order (the later report supersedes the earlier), [Flatten] writes
// them in that order so that extracting its output gives the last one, and
// [ReadFile] returns the last one.
//
// # Names
//
// Entry names are reported cleaned and relative to the image root:
// "./etc/passwd", "/etc/passwd" and "etc//passwd" all become "etc/passwd",
// and directories lose their trailing slash. The root directory's own entry
// ("./") is not reported. A name, or a hard link's target, that climbs out of
// the root with ".." is refused with an [*UnsafeNameError]: layers come from
// untrusted registries. So is an entry under a symbolic link (or a file)
// that an earlier entry of the same layer made, such as "evil -> /etc" then
// "evil/passwd": no runtime shows that tree, and extracting it naively
// writes /etc/passwd of the host. A layer's entries under a symbolic link of
// a lower layer are a directory that replaces the link, as overlayfs shows
// them (Docker's overlay2 applies layers so): the link is not reported and
// nothing is written through it. containerd's applier instead follows the
// link, inside the root, so there "evil/passwd" over "evil -> /etc" replaces
// /etc/passwd of the image; neither leaves the root. Symbolic link targets are reported as they are; no
// function of this package follows them on a real filesystem, and
// [ReadFile] resolves them inside the image, where ".." stops at the root.
//
// A hard link names a file of its own layer. [Walk] and [Flatten] report it
// as it is, so if an upper layer deletes or replaces its target, the link
// in the flattened tar dangles or names the new file (as with crane
// export); [ReadFile] reads the content the link had in its layer.
//
// # Memory and limits
//
// Everything streams: memory does not grow with the size of a layer or of a
// file (except [ReadFile], which returns the file's bytes, up to
// [WithMaxFileSize]). [Walk] and [Flatten] keep one small record per path
// they have reported or seen deleted, up to [WithMaxEntries] paths and 128
// bytes a path on average for names and records (a million paths and 128
// MiB by default); past it they stop with a [*LimitError]. [ReadFile] keeps
// only the directories of the path it looks for. A layer that decompresses to more than
// [WithMaxLayerSize] bytes (unlimited by default; a gzip bomb costs time, not
// memory) stops with a [*LimitError] too. Errors from reading a layer,
// including a truncated one (wrapping [io.ErrUnexpectedEOF]), come as a
// [*LayerError] naming the layer.
//
// Nothing is written to disk.
package files
