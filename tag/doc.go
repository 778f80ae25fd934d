// Package tag is a movable name in a repository: "latest", "3.0". A [Tag]
// resolves to the digest of one manifest, fetches the image or index behind
// it, and can be pointed at another manifest of its repository without
// uploading anything.
//
// Get a Tag from a repository:
//
//	t := repo.Tag("latest")
//	desc, err := t.Resolve(ctx)     // which digest does latest name?
//	img, err := t.Image(ctx)        // fetch and verify it
//	err = t.Point(ctx, other)       // move latest
package tag
