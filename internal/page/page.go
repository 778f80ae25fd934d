// Package page turns a paged list of the transport into a lazy iterator.
package page

import (
	"context"
	"fmt"
	"iter"

	"github.com/regkit/regkit/transport"
)

// Options are the settings shared by every list iterator.
type Options struct {
	Size     int    // entries per page; 0 lets the backend choose
	MaxPages int    // stop with transport.ErrTooManyPages after this many pages; 0 means no limit
	Last     string // start after this entry
}

// Fetch fetches one page.
type Fetch[T any] func(ctx context.Context, req transport.PageRequest) (transport.Page[T], error)

// All returns an iterator that fetches pages lazily, one per call of fetch,
// and yields their items. An error is yielded once, as the last element.
// what names the list in errors ("tags of myapp1").
func All[T any](ctx context.Context, what string, o Options, fetch Fetch[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		req := transport.PageRequest{N: o.Size, Last: o.Last}
		seen := map[string]bool{}
		for n := 0; ; n++ {
			if o.MaxPages > 0 && n == o.MaxPages {
				yield(zero, fmt.Errorf("list %s: %d pages: %w", what, n, transport.ErrTooManyPages))
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
			if seen[p.Next] {
				yield(zero, fmt.Errorf("list %s: the registry sent cursor %q twice", what, p.Next))
				return
			}
			seen[p.Next] = true
			req = transport.PageRequest{N: o.Size, Next: p.Next}
		}
	}
}
