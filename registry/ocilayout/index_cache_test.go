package ocilayout

import (
	"context"
	"testing"
)

// TestResolveAllocsConstant checks that resolving a tag costs as many
// allocations in a repository of 10,000 tags as in one of 10: index.json is
// not read and parsed again on every call.
func TestResolveAllocsConstant(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a layout of 10,000 tags")
	}
	ctx := context.Background()
	allocs := func(n int) float64 {
		s, err := NewStore(benchLayout(t, n))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		tag := benchTag(n / 2)
		return testing.AllocsPerRun(20, func() {
			if _, err := s.HeadManifest(ctx, benchRepo, tag); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(10), allocs(10000)
	if large > small {
		t.Errorf("a resolve allocates %v times at 10,000 tags, %v at 10: want no more", large, small)
	}
}
