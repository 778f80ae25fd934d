package ocilayout

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// TestListReferrersAllocsPerPage checks that a page of 100 referrers
// allocates as much with 10,000 referrers as with 100: a page costs the
// page, not the whole list.
func TestListReferrersAllocsPerPage(t *testing.T) {
	allocs := func(n int) float64 {
		dir, subject := referrerLayout(t, n)
		s, err := NewStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := t.Context()
		first, err := s.ListReferrers(ctx, benchRepo, subject, "", transport.PageRequest{N: 1})
		if err != nil {
			t.Fatal(err)
		}
		req := transport.PageRequest{N: 100, Next: first.Next}
		return testing.AllocsPerRun(10, func() {
			p, err := s.ListReferrers(ctx, benchRepo, subject, "", req)
			if err != nil || len(p.Items) != min(100, n-1) {
				t.Fatalf("ListReferrers = %d items, %v", len(p.Items), err)
			}
		})
	}
	small, large := allocs(100), allocs(10000)
	t.Logf("allocations per page of 100: %.0f with 100 referrers, %.0f with 10,000", small, large)
	if large > 2*small+50 {
		t.Errorf("a page of 100 allocates %.0f times with 10,000 referrers, %.0f with 100: it grows with the list", large, small)
	}
}

// TestListReferrersSeesWrites checks that the next page of referrers
// shows a referrer added and one deleted in between, by the Store that
// lists or by another Store over the same directory.
func TestListReferrersSeesWrites(t *testing.T) {
	for _, other := range []bool{false, true} {
		t.Run(fmt.Sprintf("other store=%t", other), func(t *testing.T) {
			dir, subject := referrerLayout(t, 150)
			s, err := NewStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			w := s
			if other {
				if w, err = NewStore(dir); err != nil {
					t.Fatal(err)
				}
				defer w.Close()
			}
			ctx := t.Context()
			all, err := s.ListReferrers(ctx, benchRepo, subject, "", transport.PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			first, err := s.ListReferrers(ctx, benchRepo, subject, "", transport.PageRequest{N: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(first.Items) != 100 || first.Next == "" {
				t.Fatalf("first page: %d items, next %q", len(first.Items), first.Next)
			}

			gone := all.Items[100].Digest // the first of the next page
			if err := w.DeleteManifest(ctx, benchRepo, gone.String()); err != nil {
				t.Fatal(err)
			}
			subjectDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: subject}
			subjectDesc.Size = int64(len(benchManifest(0)))
			var added []digest.Digest
			for i := range 4 { // some sort before the cursor, some after
				body := referrerManifest(subjectDesc, 1000+i)
				d := digest.FromBytes(body)
				if _, err := w.PutManifest(ctx, benchRepo, d.String(), ocispec.MediaTypeImageManifest, body, nil); err != nil {
					t.Fatal(err)
				}
				added = append(added, d)
			}

			var want []digest.Digest
			for _, d := range all.Items[101:] {
				want = append(want, d.Digest)
			}
			for _, d := range added {
				if d > digest.Digest(first.Next) {
					want = append(want, d)
				}
			}
			slices.SortFunc(want, func(a, b digest.Digest) int { return cmp.Compare(a, b) })
			next, err := s.ListReferrers(ctx, benchRepo, subject, "", transport.PageRequest{Next: first.Next})
			if err != nil {
				t.Fatal(err)
			}
			var got []digest.Digest
			for _, d := range next.Items {
				got = append(got, d.Digest)
			}
			if !slices.Equal(got, want) {
				t.Errorf("next page after the writes:\n got %v\nwant %v", got, want)
			}
		})
	}
}
