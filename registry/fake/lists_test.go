package fake

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

func TestListTags(t *testing.T) {
	t.Parallel()
	s := NewStore()
	capped := NewStore(WithMaxPageSize(2))
	ctx := t.Context()
	tags := []string{"v2", "1.0", "latest", "V1", "a_b"}
	for _, st := range []*Store{s, capped} {
		_, body := pushImage(t, st, "repo", "tags", "")
		for _, tag := range tags {
			if _, err := st.PutManifest(ctx, "repo", tag, ocispec.MediaTypeImageManifest, body, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	sorted := slices.Sorted(slices.Values(tags)) // 1.0 V1 a_b latest v2
	tests := []struct {
		name     string
		store    *Store
		req      transport.PageRequest
		want     []string
		wantNext string
		wantErr  error
	}{
		{name: "all", store: s, want: sorted},
		{name: "first two", store: s, req: transport.PageRequest{N: 2}, want: sorted[:2], wantNext: "V1"},
		{name: "after last", store: s, req: transport.PageRequest{N: 2, Last: "V1"}, want: sorted[2:4], wantNext: "latest"},
		{name: "after next", store: s, req: transport.PageRequest{N: 2, Next: "latest"}, want: sorted[4:]},
		{name: "next wins over last", store: s, req: transport.PageRequest{N: 1, Next: "a_b", Last: "1.0"}, want: []string{"latest"}, wantNext: "latest"},
		{name: "last between tags", store: s, req: transport.PageRequest{Last: "b"}, want: []string{"latest", "v2"}},
		{name: "exact fit has no next", store: s, req: transport.PageRequest{N: 5}, want: sorted},
		{name: "past the end", store: s, req: transport.PageRequest{Last: "zzz"}, want: []string{}},
		{name: "cap with N 0", store: capped, want: sorted[:2], wantNext: "V1"},
		{name: "cap with large N", store: capped, req: transport.PageRequest{N: 100, Last: "V1"}, want: sorted[2:4], wantNext: "latest"},
		{name: "under the cap", store: capped, req: transport.PageRequest{N: 1}, want: sorted[:1], wantNext: "1.0"},
		{name: "negative N", store: s, req: transport.PageRequest{N: -1}, wantErr: transport.ErrSizeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := tc.store.ListTags(t.Context(), "repo", tc.req)
			checkErr(t, "ListTags", err, tc.wantErr)
			if err != nil {
				return
			}
			if !slices.Equal(page.Items, tc.want) || page.Next != tc.wantNext || page.Items == nil {
				t.Errorf("ListTags(%+v) = %q next %q, want %q next %q", tc.req, page.Items, page.Next, tc.want, tc.wantNext)
			}
		})
	}
	_, err := s.ListTags(ctx, "nope", transport.PageRequest{})
	checkErr(t, "ListTags(unknown repository)", err, transport.ErrNameUnknown)
}

// TestListRepositoriesPaging walks every page, as a client does.
func TestListRepositoriesPaging(t *testing.T) {
	t.Parallel()
	s := NewStore(WithMaxPageSize(4))
	ctx := t.Context()
	var want []string
	for i := range 11 {
		name := fmt.Sprintf("org/repo%02d", i)
		putBlob(t, s, name, []byte(name))
		want = append(want, name)
	}
	for _, n := range []int{0, 1, 3, 4, 10} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Parallel()
			var got []string
			req := transport.PageRequest{N: n}
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatal("paging does not end")
				}
				page, err := s.ListRepositories(ctx, req)
				checkErr(t, "ListRepositories", err, nil)
				if len(page.Items) > 4 {
					t.Errorf("page of %d names, over the cap of 4", len(page.Items))
				}
				got = append(got, page.Items...)
				if page.Next == "" {
					break
				}
				req.Next = page.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged names = %q, want %q", got, want)
			}
		})
	}
	_, err := s.ListRepositories(ctx, transport.PageRequest{N: -5})
	checkErr(t, "ListRepositories(N: -5)", err, transport.ErrSizeInvalid)
}

func TestListReferrers(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	subject, _ := pushImage(t, s, "repo", "subject", "latest")
	cfg := putBlob(t, s, "repo", []byte("{}"))
	cfg.MediaType = "application/x.config"
	var sigs, all []digest.Digest
	for i := range 5 {
		m := ocispec.Manifest{
			Config:      cfg,
			Subject:     &subject,
			Annotations: map[string]string{"i": fmt.Sprint(i)},
		}
		if i%2 == 0 {
			m.ArtifactType = "application/x.sig"
		}
		body := manifestJSON(t, m)
		desc, err := s.PutManifest(ctx, "repo", digest.FromBytes(body).String(), ocispec.MediaTypeImageManifest, body, nil)
		checkErr(t, "PutManifest", err, nil)
		all = append(all, desc.Digest)
		if i%2 == 0 {
			sigs = append(sigs, desc.Digest)
		}
	}
	// An index can refer too.
	ix := indexJSON(t, ocispec.Index{Manifests: []ocispec.Descriptor{subject}, Subject: &subject, ArtifactType: "application/x.sig"})
	ixDesc, err := s.PutManifest(ctx, "repo", "index", ocispec.MediaTypeImageIndex, ix, nil)
	checkErr(t, "PutManifest(index)", err, nil)
	all = append(all, ixDesc.Digest)
	sigs = append(sigs, ixDesc.Digest)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	sort.Slice(sigs, func(i, j int) bool { return sigs[i] < sigs[j] })

	tests := []struct {
		name         string
		repo         string
		subject      digest.Digest
		artifactType string
		req          transport.PageRequest
		want         []digest.Digest
		wantNext     bool
	}{
		{name: "all", repo: "repo", subject: subject.Digest, want: all},
		{name: "filtered", repo: "repo", subject: subject.Digest, artifactType: "application/x.sig", want: sigs},
		{name: "config media type", repo: "repo", subject: subject.Digest, artifactType: "application/x.config", want: without(all, sigs)},
		{name: "first page", repo: "repo", subject: subject.Digest, req: transport.PageRequest{N: 2}, want: all[:2], wantNext: true},
		{name: "next page", repo: "repo", subject: subject.Digest, req: transport.PageRequest{N: 2, Next: all[1].String()}, want: all[2:4], wantNext: true},
		{name: "last page", repo: "repo", subject: subject.Digest, req: transport.PageRequest{N: 2, Last: all[3].String()}, want: all[4:]},
		{name: "filtered page", repo: "repo", subject: subject.Digest, artifactType: "application/x.sig", req: transport.PageRequest{N: 2},
			want: sigs[:2], wantNext: true},
		{name: "no such artifact type", repo: "repo", subject: subject.Digest, artifactType: "application/x.none"},
		{name: "unknown subject", repo: "repo", subject: digest.FromString("nothing")},
		{name: "unknown repository", repo: "nope", subject: subject.Digest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := s.ListReferrers(t.Context(), tc.repo, tc.subject, tc.artifactType, tc.req)
			checkErr(t, "ListReferrers", err, nil)
			var got []digest.Digest
			for _, d := range page.Items {
				got = append(got, d.Digest)
			}
			if !slices.Equal(got, tc.want) || (page.Next != "") != tc.wantNext {
				t.Errorf("ListReferrers = %v next %q, want %v (next: %v)", got, page.Next, tc.want, tc.wantNext)
			}
		})
	}

	t.Run("descriptors", func(t *testing.T) {
		t.Parallel()
		page, err := s.ListReferrers(t.Context(), "repo", subject.Digest, "", transport.PageRequest{})
		checkErr(t, "ListReferrers", err, nil)
		for _, d := range page.Items {
			_, body, err := s.GetManifest(t.Context(), "repo", d.Digest.String())
			checkErr(t, "GetManifest(referrer)", err, nil)
			if d.Size != int64(len(body)) || d.MediaType == "" {
				t.Errorf("referrer %s: size %d, media type %q; want %d and a media type", d.Digest, d.Size, d.MediaType, len(body))
			}
			if d.Digest == ixDesc.Digest {
				if d.MediaType != ocispec.MediaTypeImageIndex || d.ArtifactType != "application/x.sig" {
					t.Errorf("index referrer = %+v", d)
				}
				continue
			}
			if d.ArtifactType != "application/x.sig" && d.ArtifactType != "application/x.config" {
				t.Errorf("referrer %s has artifact type %q", d.Digest, d.ArtifactType)
			}
			if d.Annotations["i"] == "" {
				t.Errorf("referrer %s lost its annotations: %v", d.Digest, d.Annotations)
			}
			d.Annotations["i"] = "changed" // must not reach the store
		}
		again, _ := s.ListReferrers(t.Context(), "repo", subject.Digest, "application/x.config", transport.PageRequest{})
		for _, d := range again.Items {
			if d.Annotations["i"] == "changed" {
				t.Error("changing a listed descriptor changed the store")
			}
		}
	})

	_, err = s.ListReferrers(ctx, "repo", subject.Digest, "", transport.PageRequest{N: -1})
	checkErr(t, "ListReferrers(N: -1)", err, transport.ErrSizeInvalid)
	capped := NewStore(WithMaxPageSize(1))
	sub, _ := pushImage(t, capped, "repo", "capped", "")
	for i := range 2 {
		body := manifestJSON(t, ocispec.Manifest{Config: putBlob(t, capped, "repo", []byte(fmt.Sprint(i))), Subject: &sub})
		if _, err := capped.PutManifest(ctx, "repo", fmt.Sprint("r", i), ocispec.MediaTypeImageManifest, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	page, err := capped.ListReferrers(ctx, "repo", sub.Digest, "", transport.PageRequest{})
	if err != nil || len(page.Items) != 1 || page.Next == "" {
		t.Errorf("capped ListReferrers = %d items, next %q, %v; want 1 and a next cursor", len(page.Items), page.Next, err)
	}
}

// without returns the digests of all that are not in drop.
func without(all, drop []digest.Digest) []digest.Digest {
	var out []digest.Digest
	for _, d := range all {
		if !slices.Contains(drop, d) {
			out = append(out, d)
		}
	}
	return out
}

func TestListTagsHugePageSize(t *testing.T) {
	t.Parallel()
	s := NewStore()
	for _, tag := range []string{"a", "b", "c"} {
		pushImage(t, s, "r", tag, tag)
	}
	p, err := s.ListTags(t.Context(), "r", transport.PageRequest{N: math.MaxInt, Last: "a"})
	if err != nil || len(p.Items) != 2 || p.Next != "" {
		t.Fatalf("ListTags(n=MaxInt, last=a) = %+v, %v; want [b c] and no next page", p, err)
	}
}
