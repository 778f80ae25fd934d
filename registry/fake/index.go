package fake

import (
	"slices"
	"sort"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// maxBlock is the most entries one block of a [sortedList] holds: an
// insert or a delete moves at most this many, and a full block splits in
// two.
const maxBlock = 512

// sortedList is a list of entries kept sorted by key, each key once, on
// which an insert, a delete and finding where a page starts cost a binary
// search and the moving of at most one block, whatever the length, and a
// page costs copying its entries. It is how the store keeps its
// repositories, tags and referrers in the order they are listed in, so
// that listing them page by page costs the pages, not the list once per
// page. Its zero value is an empty list of entries keyed by key; it is not
// safe for concurrent use (the store's lock guards it).
type sortedList[T any] struct {
	key    func(T) string
	blocks [][]T // each non-empty and sorted; every key of a block is below those of the next
	n      int
}

// newSortedList returns an empty list of entries keyed by key.
func newSortedList[T any](key func(T) string) *sortedList[T] {
	return &sortedList[T]{key: key}
}

// find returns the block and the position in it of the first entry whose
// key is at least k (len(blocks)-1 and the length of the last block when
// there is none), and whether its key is k.
func (l *sortedList[T]) find(k string) (block, i int, found bool) {
	if len(l.blocks) == 0 {
		return 0, 0, false
	}
	block = sort.Search(len(l.blocks), func(i int) bool {
		b := l.blocks[i]
		return l.key(b[len(b)-1]) >= k
	})
	if block == len(l.blocks) {
		block--
		return block, len(l.blocks[block]), false
	}
	b := l.blocks[block]
	i = sort.Search(len(b), func(i int) bool { return l.key(b[i]) >= k })
	return block, i, i < len(b) && l.key(b[i]) == k
}

// set adds v, or replaces the entry of v's key.
func (l *sortedList[T]) set(v T) {
	block, i, found := l.find(l.key(v))
	if found {
		l.blocks[block][i] = v
		return
	}
	l.n++
	if len(l.blocks) == 0 {
		l.blocks = [][]T{{v}}
		return
	}
	b := slices.Insert(l.blocks[block], i, v)
	if len(b) <= maxBlock {
		l.blocks[block] = b
		return
	}
	half := len(b) / 2
	l.blocks[block] = b[:half:half]
	l.blocks = slices.Insert(l.blocks, block+1, slices.Clip(slices.Clone(b[half:])))
}

// delete removes the entry of key k, if any, and reports whether there
// was one.
func (l *sortedList[T]) delete(k string) bool {
	block, i, found := l.find(k)
	if !found {
		return false
	}
	l.n--
	b := slices.Delete(l.blocks[block], i, i+1)
	if len(b) == 0 {
		l.blocks = slices.Delete(l.blocks, block, block+1)
		return true
	}
	l.blocks[block] = b
	return true
}

// len returns the number of entries.
func (l *sortedList[T]) len() int { return l.n }

// page returns a copy of the entries whose key is above after and that
// keep accepts (all, when keep is nil), at most n of them (all, when n is
// 0), and whether more such entries follow. It costs the entries it looks
// at, not the whole list.
func (l *sortedList[T]) page(after string, n int, keep func(T) bool) (items []T, more bool) {
	size := l.n
	if n > 0 && n < size {
		size = n
	}
	items = make([]T, 0, size)
	block, i, found := l.find(after)
	if found {
		i++
	}
	for ; block < len(l.blocks); block, i = block+1, 0 {
		for _, v := range l.blocks[block][i:] {
			if keep != nil && !keep(v) {
				continue
			}
			if n > 0 && len(items) == n {
				return items, true
			}
			items = append(items, v)
		}
	}
	return items, false
}

// listPage returns the page of l that req asks for, as [Store.ListTags]
// describes: the entries after req.Next, or req.Last when Next is empty,
// at most req.N of them or maxPage when that is positive and smaller (0
// meaning all), and a Next cursor, the key of the page's last entry, when
// more follow.
func listPage[T any](l *sortedList[T], req transport.PageRequest, maxPage int, keep func(T) bool) transport.Page[T] {
	after := req.Last
	if req.Next != "" {
		after = req.Next
	}
	n := req.N
	if maxPage > 0 && (n == 0 || n > maxPage) {
		n = maxPage
	}
	items, more := l.page(after, n, keep)
	p := transport.Page[T]{Items: items}
	if more && len(items) > 0 {
		p.Next = l.key(items[len(items)-1])
	}
	return p
}

// identity is the key of a list of strings.
func identity(s string) string { return s }

// descriptorDigest is the key of a list of referrers.
func descriptorDigest(d ocispec.Descriptor) string { return string(d.Digest) }
