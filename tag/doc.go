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

// ListOptions are the settings of a tag listing. A nil *ListOptions means the
// zero value: pages of the registry's choosing, at most
// [transport.DefaultMaxPages] of them, from the start.
type ListOptions struct {
	// PageSize is the n= of each page request. If zero, the registry chooses.
	PageSize int
	// MaxPages stops the listing with a [*transport.LimitError] (matching
	// [transport.ErrTooManyPages]) after this many pages. If zero,
	// [transport.DefaultMaxPages] (10,000); if negative, there is no limit.
	MaxPages int
	// Last starts the listing after this tag (the spec's last= cursor), to
	// resume a long listing.
	Last string
}
