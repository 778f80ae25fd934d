package backend

import (
	"sort"

	"github.com/regkit/regkit/transport"
)

// Page returns the page of items that req asks for. items must be sorted
// by key, in lexical (byte) order. The page holds the entries after
// req.Next, or after req.Last when Next is empty, and at most req.N of them,
// N 0 meaning all; when maxPage is positive it caps both. Its Next cursor is
// set only when more entries follow, to the key of its last entry. The
// page's Items never share memory with items.
func Page[T any](items []T, key func(T) string, req transport.PageRequest, maxPage int) transport.Page[T] {
	after := req.Last
	if req.Next != "" {
		after = req.Next
	}
	start := sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	n := req.N
	if maxPage > 0 && (n == 0 || n > maxPage) {
		n = maxPage
	}
	end := len(items)
	if n > 0 && n < len(items)-start { // compared this way, a huge n cannot overflow
		end = start + n
	}
	p := transport.Page[T]{Items: make([]T, 0, end-start)}
	p.Items = append(p.Items, items[start:end]...)
	if end < len(items) {
		p.Next = key(items[end-1])
	}
	return p
}

// Identity returns s. It is the key of [Page] for lists of strings.
func Identity(s string) string { return s }
