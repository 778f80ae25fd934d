package fake

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedList checks the sorted list against a sorted slice, through
// inserts (in random order, enough to split blocks many times), replaces,
// deletes and every page size.
func TestSortedList(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	l := newSortedList(identity)
	want := map[string]bool{}
	check := func(stage string) {
		t.Helper()
		ref := slices.Sorted(func(yield func(string) bool) {
			for k := range want {
				if !yield(k) {
					return
				}
			}
		})
		if l.len() != len(ref) {
			t.Fatalf("%s: len %d, want %d", stage, l.len(), len(ref))
		}
		for _, b := range l.blocks {
			if len(b) == 0 || len(b) > maxBlock {
				t.Fatalf("%s: a block of %d entries", stage, len(b))
			}
		}
		all, more := l.page("", 0, nil)
		if !slices.Equal(all, ref) || more {
			t.Fatalf("%s: the whole list differs (%d entries, more %v; want %d)", stage, len(all), more, len(ref))
		}
		for _, n := range []int{1, 7, 100, maxBlock, 3000} {
			var got []string
			after := ""
			for {
				p, more := l.page(after, n, nil)
				if len(p) > n || (more && len(p) != n) {
					t.Fatalf("%s: page of %d after %q has %d entries, more %v", stage, n, after, len(p), more)
				}
				got = append(got, p...)
				if !more {
					break
				}
				after = p[len(p)-1]
			}
			if !slices.Equal(got, ref) {
				t.Fatalf("%s: paged by %d, the list differs", stage, n)
			}
		}
		if len(ref) > 2 {
			mid := ref[len(ref)/2]
			p, _ := l.page(mid+"\x00", 1, nil) // after a key that is not listed
			if len(p) != 1 || p[0] != ref[len(ref)/2+1] {
				t.Fatalf("%s: the page after %q is %q, want %q", stage, mid+"\x00", p, ref[len(ref)/2+1])
			}
		}
	}
	check("empty")
	for i := range 5000 {
		k := fmt.Sprintf("k%05d", rng.IntN(8000))
		l.set(k)
		want[k] = true
		if i%997 == 0 {
			check(fmt.Sprintf("after %d inserts", i))
		}
	}
	check("filled")
	l.set("k00001") // again: a replace, not a second entry
	want["k00001"] = true
	check("replaced")
	for i := range 6000 {
		k := fmt.Sprintf("k%05d", rng.IntN(8000))
		if got := l.delete(k); got != want[k] {
			t.Fatalf("delete(%q) = %v, want %v", k, got, want[k])
		}
		delete(want, k)
		if i%997 == 0 {
			check(fmt.Sprintf("after %d deletes", i))
		}
	}
	for k := range want {
		l.delete(k)
		delete(want, k)
	}
	check("emptied")
	if len(l.blocks) != 0 {
		t.Errorf("an empty list keeps %d blocks", len(l.blocks))
	}
}

// TestSortedListFilter pages a list through a filter: pages hold only
// what it keeps, and more is false when nothing it keeps follows.
func TestSortedListFilter(t *testing.T) {
	t.Parallel()
	l := newSortedList(identity)
	for i := range 2000 {
		l.set(fmt.Sprintf("k%04d", i))
	}
	keep := func(s string) bool { return s == "k0003" || s == "k1500" || s == "k1999" }
	tests := []struct {
		after    string
		n        int
		want     []string
		wantMore bool
	}{
		{"", 0, []string{"k0003", "k1500", "k1999"}, false},
		{"", 1, []string{"k0003"}, true},
		{"k0003", 1, []string{"k1500"}, true},
		{"k1500", 1, []string{"k1999"}, false},
		{"k1999", 1, []string{}, false},
		{"", 3, []string{"k0003", "k1500", "k1999"}, false},
	}
	for _, tc := range tests {
		got, more := l.page(tc.after, tc.n, keep)
		if !slices.Equal(got, tc.want) || more != tc.wantMore || got == nil {
			t.Errorf("page(%q, %d) = %q, %v; want %q, %v", tc.after, tc.n, got, more, tc.want, tc.wantMore)
		}
	}
}
