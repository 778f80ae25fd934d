// Package repository is a named collection of images in a registry:
// "myapp1", "library/ubuntu". A [Repository] lists its tags, hands out a
// [tag.Tag] by name, pushes images under tags, fetches images, manifests and
// blobs by digest (verifying every byte), lists referrers and deletes.
//
// Get a Repository from a [registry.Registry]:
//
//	repo := reg.Repository("myapp1")
//	desc, err := repo.Push(ctx, img, "3.0", "latest") // blobs, manifest, then tags
//	for name, err := range repo.Tags(ctx, nil) { … }  // pages lazily
//	img, err := repo.Image(ctx, desc.Digest)          // by digest
//
// [registry.Registry]: https://pkg.go.dev/github.com/regkit/regkit/registry#Registry
package repository
