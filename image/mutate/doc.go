// Package mutate makes new images out of existing ones: [Append] adds
// layers (and config changes) on top of a base image, [AppendIndex] does it
// for every platform of a base index (the ko flow: one binary per
// platform on a multi-platform base), and [Rebase] swaps the base under an
// image's own layers.
//
// The base is any [*image.Image]: built in memory, or pulled from a
// registry over HTTP, from the in-memory fake or from an OCI layout on
// disk. Mutating reads only the base's manifest and config; its layers are
// never opened. The new image refers to the base's layer blobs as they
// are, so pushing it costs what the new content costs:
//
//   - to the base's own repository, the base layers are found there and
//     skipped, unread;
//   - to another repository of the same registry, they are mounted, unread
//     (the repository package records where pulled blobs come from: see
//     [image.Blob.Source]);
//   - to another registry, each is streamed once from the base's registry
//     to the new one.
//
// The new config is the base's, with one rootfs.diff_id and one history
// entry per new layer appended, then the caller's [Edit] applied. Keys of
// the base config that ocispec.Image does not model (Docker's
// config.Healthcheck, container_config, ...) are kept as they were.
//
//	base, err := repo.Tag("3.20").Image(ctx)
//	img, err := mutate.Append(ctx, base, []mutate.Layer{{Blob: app, DiffID: appDiffID}},
//		func(c *ocispec.Image) error {
//			c.Config.Entrypoint = []string{"/app"}
//			return nil
//		})
//	_, err = repo.Push(ctx, img, "app")
package mutate
