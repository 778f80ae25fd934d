package fake_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// TestListPageCostIsThePage lists one page of 100 from the middle of lists
// of 1,000 and of 100,000 entries: the allocations and the bytes allocated
// per page must not grow with the list, so that listing everything in pages
// costs no more than in one page (a page that copied or sorted the whole
// list made that quadratic). It measures the process's allocations, so it
// does not run in parallel.
func TestListPageCostIsThePage(t *testing.T) {
	small, large := 1_000, 100_000
	if testing.Short() || raceEnabled {
		large = 20_000 // still 20 times the small list
	}
	type lister func(ctx context.Context, s *fake.Store, last string) (int, error)
	tests := []struct {
		name string
		fill func(tb testing.TB, s *fake.Store, n int) (lister, string) // and a key in the middle
	}{
		{"tags", func(tb testing.TB, s *fake.Store, n int) (lister, string) {
			fillTags(tb, s, "repo", n)
			return func(ctx context.Context, s *fake.Store, last string) (int, error) {
				p, err := s.ListTags(ctx, "repo", transport.PageRequest{N: 100, Last: last})
				return len(p.Items), err
			}, fmt.Sprintf("t%06d", n/2)
		}},
		{"repositories", func(tb testing.TB, s *fake.Store, n int) (lister, string) {
			fillRepositories(tb, s, n)
			return func(ctx context.Context, s *fake.Store, last string) (int, error) {
				p, err := s.ListRepositories(ctx, transport.PageRequest{N: 100, Last: last})
				return len(p.Items), err
			}, fmt.Sprintf("r%06d", n/2)
		}},
		{"referrers", func(tb testing.TB, s *fake.Store, n int) (lister, string) {
			subject := fillReferrers(tb, s, "repo", n)
			return func(ctx context.Context, s *fake.Store, last string) (int, error) {
				p, err := s.ListReferrers(ctx, "repo", subject, "", transport.PageRequest{N: 100, Next: last})
				return len(p.Items), err
			}, string(digest.SHA256.FromString("middle"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var allocs [2]float64
			var bytes [2]uint64
			for i, n := range []int{small, large} {
				s := fake.NewStore()
				list, last := tc.fill(t, s, n)
				ctx := context.Background()
				run := func() {
					if got, err := list(ctx, s, last); err != nil || got != 100 {
						t.Fatalf("page after %q of %d entries: %d entries, %v; want 100", last, n, got, err)
					}
				}
				allocs[i] = testing.AllocsPerRun(20, run)
				bytes[i] = bytesPerRun(20, run)
				for range 2 { // the least of three: other goroutines allocate too
					bytes[i] = min(bytes[i], bytesPerRun(20, run))
				}
			}
			t.Logf("one page of 100 from %d entries: %.0f allocs, %d B; from %d: %.0f allocs, %d B",
				small, allocs[0], bytes[0], large, allocs[1], bytes[1])
			if allocs[1] > allocs[0]+2 { // +2: other goroutines allocate too
				t.Errorf("a page of 100 from %d entries makes %.0f allocations, from %d entries %.0f: the cost grows with the list", small, allocs[0], large, allocs[1])
			}
			// Twice the small list's bytes and 256 KiB of slack: the bytes are
			// the process's, and other goroutines allocate too (once 13 KB
			// against 6 KB for a page of tags). A page that copied or sorted
			// the whole list allocated megabytes at 20,000 entries.
			if bytes[1] > bytes[0]*2+256<<10 {
				t.Errorf("a page of 100 from %d entries allocates %d B, from %d entries %d B: the cost grows with the list", small, bytes[0], large, bytes[1])
			}
		})
	}
}

// bytesPerRun returns the bytes f allocates per call, averaged over runs
// calls after a first one.
func bytesPerRun(runs int, f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// TestReferrersManyOverHTTP lists 20,000 referrers of one manifest
// through regkit's HTTP client: more than one response of the client's
// 4 MiB limit holds, so the server must page them and the client follow.
func TestReferrersManyOverHTTP(t *testing.T) {
	t.Parallel()
	const n = 20_000
	s := fake.NewStore()
	subject := fillReferrers(t, s, "repo", n)
	srv := fake.Serve(t, fake.WithStore(s))
	seen := make(map[digest.Digest]bool, n)
	for desc, err := range srv.Registry().Repository("repo").Referrers(t.Context(), subject, nil) {
		if err != nil {
			t.Fatalf("after %d referrers: %v", len(seen), err)
		}
		if seen[desc.Digest] {
			t.Fatalf("referrer %s listed twice", desc.Digest)
		}
		seen[desc.Digest] = true
	}
	if len(seen) != n {
		t.Errorf("listed %d referrers, want %d", len(seen), n)
	}
}

// TestReferrersBigAnnotationsOverHTTP lists 1,000 referrers of 6 KiB of
// annotations each through regkit's client: 6 MB in one page of the
// server's default 1000, more than the client reads as one index (4 MiB).
// The server keeps each page under its byte budget, so all are listed.
func TestReferrersBigAnnotationsOverHTTP(t *testing.T) {
	t.Parallel()
	const n = 1000
	s := fake.NewStore()
	subject := fillReferrersPadded(t, s, "repo", n, 6<<10)
	srv := fake.Serve(t, fake.WithStore(s))
	seen := make(map[digest.Digest]bool, n)
	for desc, err := range srv.Registry().Repository("repo").Referrers(t.Context(), subject, nil) {
		if err != nil {
			t.Fatalf("after %d referrers: %v", len(seen), err)
		}
		if len(desc.Annotations["pad"]) != 6<<10 {
			t.Fatalf("referrer %s lists annotation pad of %d bytes, want %d", desc.Digest, len(desc.Annotations["pad"]), 6<<10)
		}
		seen[desc.Digest] = true
	}
	if len(seen) != n {
		t.Errorf("listed %d referrers, want %d", len(seen), n)
	}
	var pages int
	for _, req := range srv.Requests() {
		if req.Route == fake.RouteReferrers {
			pages++
		}
	}
	if pages < 7 || pages > 16 {
		t.Errorf("listed in %d pages: want pages of at most 1 MiB, and no more than twice as many as that needs", pages)
	}
}
