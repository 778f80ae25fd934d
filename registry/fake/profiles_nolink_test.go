package fake_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
)

// TestProfileNoLink lists tags and the catalog in pages of 100 through
// regkit's client, from a server that sends Link headers and from one
// that does not (ProfileNoLink): both give every entry, the second by
// asking after the last entry of each full page. Without a Link, only a
// list that ends on a full page costs a request more (an empty page).
func TestProfileNoLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		profiles     []fake.Profile
		entries      int
		wantRequests int
	}{
		{name: "Link, 250", entries: 250, wantRequests: 3},
		{name: "Link, 99", entries: 99, wantRequests: 1},
		{name: "Link, 200", entries: 200, wantRequests: 3}, // the second page is full, without a Link
		{name: "no Link, 250", profiles: []fake.Profile{fake.ProfileNoLink}, entries: 250, wantRequests: 3},
		{name: "no Link, 99", profiles: []fake.Profile{fake.ProfileNoLink}, entries: 99, wantRequests: 1},
		{name: "no Link, 200", profiles: []fake.Profile{fake.ProfileNoLink}, entries: 200, wantRequests: 3},
		{name: "no Link, ECR", profiles: []fake.Profile{fake.ProfileNoLink, fake.ProfileECR}, entries: 250, wantRequests: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv := fake.Serve(t, fake.WithProfile(tc.profiles...))
			reg := client(t, srv, false)
			repo := reg.Repository("app")
			img := testImage(t, "nolink")
			if _, err := repo.Push(ctx, img, "t000"); err != nil {
				t.Fatal(err)
			}
			_, raw, err := srv.Store.GetManifest(ctx, "app", "t000")
			if err != nil {
				t.Fatal(err)
			}
			wantTags := []string{"t000"}
			wantRepos := []string{"app"}
			blob := []byte("nolink")
			desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
			for i := 1; i < tc.entries; i++ {
				tag := fmt.Sprintf("t%03d", i)
				if _, err := srv.Store.PutManifest(ctx, "app", tag, ocispec.MediaTypeImageManifest, raw, nil); err != nil {
					t.Fatal(err)
				}
				wantTags = append(wantTags, tag)
				name := fmt.Sprintf("r%03d", i)
				if err := srv.Store.PutBlob(ctx, name, desc, bytes.NewReader(blob)); err != nil {
					t.Fatal(err)
				}
				wantRepos = append(wantRepos, name)
			}
			opts := &repository.ListOptions{PageSize: 100}

			srv.ResetRequests()
			var tags []string
			for tag, err := range repo.Tags(ctx, opts) {
				if err != nil {
					t.Fatal(err)
				}
				tags = append(tags, tag)
			}
			if !slices.Equal(tags, wantTags) {
				t.Errorf("Tags = %d tags, want %d", len(tags), len(wantTags))
			}
			if n := countRequests(srv, http.MethodGet, fake.RouteTags)[200]; n != tc.wantRequests || len(srv.Requests()) != n {
				t.Errorf("Tags made %d tag requests (%d in all), want %d", n, len(srv.Requests()), tc.wantRequests)
			}

			srv.ResetRequests()
			var repos []string
			for name, err := range reg.Repositories(ctx, opts) {
				if err != nil {
					t.Fatal(err)
				}
				repos = append(repos, name)
			}
			if !slices.Equal(repos, wantRepos) {
				t.Errorf("Repositories = %d repositories, want %d", len(repos), len(wantRepos))
			}
			if n := countRequests(srv, http.MethodGet, fake.RouteCatalog)[200]; n != tc.wantRequests || len(srv.Requests()) != n {
				t.Errorf("Repositories made %d catalog requests (%d in all), want %d", n, len(srv.Requests()), tc.wantRequests)
			}
		})
	}
}
