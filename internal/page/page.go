// Package page turns a paged list of the transport into a lazy iterator.
package page

import (
	"context"
	"crypto/sha256"
	"fmt"
	"iter"

	"github.com/regkit/regkit/transport"
)

// All returns an iterator that fetches pages lazily, one per call of fetch,
// starting with first, and yields their items. After maxPages pages it
// stops with a *transport.LimitError (matching transport.ErrTooManyPages);
// 0 means transport.DefaultMaxPages, negative means no limit. An error is yielded once, as the last element.
// what names the list in errors ("tags of myapp1"). A next-page cursor
// that the listing has already followed ends it with
// transport.ErrPageLoop: the registry would have it list forever.
func All[T any](ctx context.Context, what string, first transport.PageRequest, maxPages int, fetch Fetch[T]) iter.Seq2[T, error] {
	if maxPages == 0 {
		maxPages = transport.DefaultMaxPages
	}
	return func(yield func(T, error) bool) {
		var zero T
		req := first
		// The cursors followed, hashed: a registry's cursors may be long.
		seen := map[[sha256.Size]byte]bool{}
		for n := 0; ; n++ {
			if maxPages > 0 && n == maxPages {
				yield(zero, &transport.LimitError{
					What: "list " + what, Unit: "pages", Limit: int64(maxPages), Option: "the listing's MaxPages option"})
				return
			}
			p, err := fetch(ctx, req)
			if err != nil {
				yield(zero, fmt.Errorf("list %s: %w", what, err))
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			h := sha256.Sum256([]byte(p.Next))
			if seen[h] {
				yield(zero, fmt.Errorf("list %s: after %d pages: %w", what, n+1, transport.ErrPageLoop))
				return
			}
			seen[h] = true
			req = transport.PageRequest{N: first.N, Next: p.Next}
		}
	}
}

// Fetch fetches one page.
type Fetch[T any] func(ctx context.Context, req transport.PageRequest) (transport.Page[T], error)
