package fake_test

import (
	"context"
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// listPageRequestAllocs is what one request for a page of 100 tags over
// HTTP allocates, regkit's client and the fake's server together: 132 when
// it was set, from 332 before the per-request costs were cut (on the
// client: descriptions, limit errors and URL strings made for every
// request, the route and name checks' splits and regexps, a Link and a
// query parsed into maps; on the server: the same route and name checks, a
// Link built through url.Values, the body marshalled by reflection; and one
// string per tag decoded).
const listPageRequestAllocs = 132

// TestListPageRequestAllocs pins the allocations of one page request of a
// list over HTTP, client and server in this process (testing.AllocsPerRun
// counts both), with 10% to spare: an allocation per request or per entry
// creeping back shows here. Under the race detector the counts are not the
// program's, and it does not run. It measures the process's allocations, so
// it does not run in parallel.
func TestListPageRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates for itself")
	}
	s := fake.NewStore()
	fillTags(t, s, "repo", 1_000)
	tr := fake.Serve(t, fake.WithStore(s)).Registry().Transport()
	ctx := context.Background()
	// The first page opens the connection and gives the cursor of the
	// second, which every run then asks for, as listing does.
	first, err := tr.ListTags(ctx, "repo", transport.PageRequest{N: 100})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: next %q, %v", first.Next, err)
	}
	req := transport.PageRequest{N: 100, Next: first.Next}
	allocs := testing.AllocsPerRun(200, func() {
		p, err := tr.ListTags(ctx, "repo", req)
		if err != nil || len(p.Items) != 100 || p.Next == "" {
			t.Fatalf("page: %d tags, next %q, %v", len(p.Items), p.Next, err)
		}
	})
	t.Logf("%v allocations per page request", allocs)
	if limit := listPageRequestAllocs * 1.1; allocs > limit {
		t.Errorf("a page request over HTTP allocates %v times, want at most %v (%d + 10%%)", allocs, limit, listPageRequestAllocs)
	}
}
