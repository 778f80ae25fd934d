package ocilayout

import (
	"container/heap"
	"context"
	"os"
	"path"
	"slices"
	"strings"
)

// repoWalk finds the repositories of a directory of layouts in lexical
// (byte) order of their names, after a cursor, reading only what it must.
// Names nest ("a/b" and "a/b/c" can both be repositories) and sort by the
// whole name, so "a/b-c" comes before "a/b/c" ('-' < '/'): not the order of
// a walk one directory after another. So it merges: it keeps every directory
// it has opened and not finished, each at its next entry, in a heap by
// that entry's name, the smallest name the entry and all under it can give.
// The smallest is looked at next: listed if it is a layout, then opened
// (only when the next name is asked for) to add what is under it. An entry
// whose names all sort at or before the cursor is passed over without a
// look, so a page reads the directories on the path to the cursor and
// those of the page, not the whole tree; what a page cannot do without is
// to read the names of each directory it opens, all of them. It reads
// names only, and looks at an entry (a stat) when it comes to it: where
// the file system does not give the type of each entry with its name,
// reading them with their types would stat every entry of a directory.
type repoWalk struct {
	ctx     context.Context
	root    *os.Root
	after   string  // the cursor: only names after it are listed
	dirs    dirHeap // the directories open, by the name of their next entry
	pending string  // a directory looked at but not opened yet, or ""
	started bool    // whether the Store's directory is open
}

// dirCursor is a directory being walked: its entries, sorted by name, and
// the next one to look at.
type dirCursor struct {
	prefix  string   // the directory's name and "/", or "" for the Store's directory
	entries []string // sorted
	i       int      // the next entry
	name    string   // its name: prefix + entries[i]
}

// newRepoWalk returns a walk of the repositories under root after the
// name after ("" for all).
func newRepoWalk(ctx context.Context, root *os.Root, after string) *repoWalk {
	return &repoWalk{ctx: ctx, root: root, after: after}
}

// next returns the next repository's name, or ok false when there is none.
// A directory it cannot read fails the walk, as it does
// [Store.ListRepositories].
func (w *repoWalk) next() (name string, ok bool, err error) {
	if !w.started {
		w.started = true
		if err := w.open("."); err != nil {
			return "", false, err
		}
	}
	if w.pending != "" {
		dir := w.pending
		w.pending = ""
		if err := w.open(dir); err != nil {
			return "", false, err
		}
	}
	for len(w.dirs) > 0 {
		if err := w.ctx.Err(); err != nil {
			return "", false, err
		}
		c := w.dirs[0]
		p := c.name
		c.i++
		if c.advance(w.after) {
			heap.Fix(&w.dirs, 0)
		} else {
			heap.Pop(&w.dirs)
		}
		if checkRepo(p) != nil || !isDirEntry(w.root, p) {
			continue // no repository can be in or under it
		}
		if p > w.after && isLayout(w.root, p) {
			w.pending = p // opened when the next name is asked for
			return p, true, nil
		}
		if err := w.open(p); err != nil {
			return "", false, err
		}
	}
	return "", false, nil
}

// isDirEntry reports whether p is a directory under root, not a symbolic
// link.
func isDirEntry(root *os.Root, p string) bool {
	fi, err := root.Lstat(p)
	return err == nil && fi.IsDir()
}

// isLayout reports whether the directory p under root holds an oci-layout
// file.
func isLayout(root *os.Root, p string) bool {
	fi, err := root.Stat(path.Join(p, ociLayoutFile))
	return err == nil && fi.Mode().IsRegular()
}

// open reads the entries of directory dir ("." for the Store's directory)
// and adds it to the walk if one of them may give a name after the cursor.
func (w *repoWalk) open(dir string) error {
	f, err := w.root.Open(dir)
	if err != nil {
		return err
	}
	entries, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	slices.Sort(entries)
	c := &dirCursor{entries: entries}
	if dir != "." {
		c.prefix = dir + "/"
	}
	if c.advance(w.after) {
		heap.Push(&w.dirs, c)
	}
	return nil
}

// advance moves c to its first entry from c.i on that may give a name
// after the cursor after, setting c.name, and reports whether there is one.
func (c *dirCursor) advance(after string) bool {
	for ; c.i < len(c.entries); c.i++ {
		if !c.passed(after, c.entries[c.i]) {
			c.name = c.prefix + c.entries[c.i]
			return true
		}
	}
	return false
}

// passed reports whether every name entry elem of c can give, its own
// (c.prefix+elem) and those under it (c.prefix+elem+"/..."), sorts at or
// before after, without making the name.
func (c *dirCursor) passed(after, elem string) bool {
	rest, ok := strings.CutPrefix(after, c.prefix)
	if !ok {
		// Not under c: every name under c is after it, or every one is
		// before it.
		return after > c.prefix
	}
	return namesBefore(rest, elem)
}

// namesBefore reports whether elem and every name under it (elem + "/"
// + anything) sorts at or before after. Those with a longer name than after
// sort after it when after starts with elem + "/" (elem/x ≤ after but
// after + "x" > after); otherwise all of them compare with after as
// elem + "/" does, and elem itself sorts before elem + "/".
func namesBefore(after, elem string) bool {
	if rest, ok := strings.CutPrefix(after, elem); ok {
		return rest != "" && rest[0] > '/'
	}
	return after > elem
}

// dirHeap is a min-heap of the directories of a walk by the name of their
// next entry ([container/heap]).
type dirHeap []*dirCursor

func (h dirHeap) Len() int           { return len(h) }
func (h dirHeap) Less(i, j int) bool { return h[i].name < h[j].name }
func (h dirHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dirHeap) Push(x any)        { *h = append(*h, x.(*dirCursor)) }
func (h *dirHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}
