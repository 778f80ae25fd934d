package ocilayout_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// TestListRepositories checks which directories are repositories, and
// paging.
func TestListRepositories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := newImage(t, 1, nil)
	layout := func(repo string) {
		writeLayout(t, dir, repo, []*image.Image{img}, nil, tagged(img.Descriptor(), "1.0"))
	}
	for _, repo := range []string{"team", "team/app", "team-x", "a/b/c", "z", "team/app/sub"} {
		layout(repo)
	}
	layout(".")                                    // the directory itself: no repository
	layout(".hidden")                              // hidden
	layout("Upper")                                // not a repository name
	layout("team/.regkit-tmp/x")                   // under a hidden directory
	layout("bad name")                             // not a repository name
	ocilayout.WriteFile(t, dir, "plain/file", nil) // no oci-layout
	ocilayout.WriteFile(t, dir, "odd/oci-layout/x", nil)
	if err := os.Symlink("team", filepath.Join(dir, "linked")); err != nil {
		t.Logf("no symbolic link: %v", err)
	}
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()

	want := []string{"a/b/c", "team", "team-x", "team/app", "team/app/sub", "z"}
	tests := []struct {
		name      string
		req       transport.PageRequest
		want      []string
		wantNext  string
		wantError error
	}{
		{name: "all", want: want},
		{name: "first two", req: transport.PageRequest{N: 2}, want: want[:2], wantNext: "team"},
		{name: "after team", req: transport.PageRequest{N: 2, Last: "team"}, want: want[2:4], wantNext: "team/app"},
		{name: "next wins over last", req: transport.PageRequest{N: 10, Last: "a", Next: "team/app"}, want: want[4:]},
		{name: "past the end", req: transport.PageRequest{Last: "zz"}, want: []string{}},
		{name: "negative n", req: transport.PageRequest{N: -1}, wantError: transport.ErrSizeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListRepositories(ctx, tc.req)
			checkErr(t, "ListRepositories", err, tc.wantError)
			if tc.wantError != nil {
				return
			}
			if !slices.Equal(page.Items, tc.want) || page.Next != tc.wantNext {
				t.Errorf("ListRepositories(%+v) = %q next %q, want %q next %q", tc.req, page.Items, page.Next, tc.want, tc.wantNext)
			}
		})
	}
	// Every listed repository reads.
	for _, repo := range want {
		if _, err := s.HeadManifest(ctx, repo, "1.0"); err != nil {
			t.Errorf("HeadManifest(%s, 1.0) = %v", repo, err)
		}
	}
}

func TestListTags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := newImage(t, 1, nil), newImage(t, 1, nil)
	// Another tool's index.json: duplicates, a full reference with a tag
	// (a tag), one without (not a tag), unsorted.
	writeLayout(t, dir, "app", []*image.Image{a, b}, nil,
		tagged(a.Descriptor(), "v2"), tagged(b.Descriptor(), "v10"), tagged(a.Descriptor(), "v1"),
		tagged(b.Descriptor(), "v2"), tagged(a.Descriptor(), "example.com/app:v3"),
		tagged(b.Descriptor(), "example.com/app"), b.Descriptor())
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	tests := []struct {
		name     string
		req      transport.PageRequest
		want     []string
		wantNext string
	}{
		{name: "all", want: []string{"v1", "v10", "v2", "v3"}},
		{name: "pages of 2", req: transport.PageRequest{N: 2}, want: []string{"v1", "v10"}, wantNext: "v10"},
		{name: "after v10", req: transport.PageRequest{Next: "v10"}, want: []string{"v2", "v3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListTags(ctx, "app", tc.req)
			if err != nil || !slices.Equal(page.Items, tc.want) || page.Next != tc.wantNext {
				t.Errorf("ListTags(%+v) = %q next %q, %v; want %q next %q", tc.req, page.Items, page.Next, err, tc.want, tc.wantNext)
			}
		})
	}
	// The first entry of a duplicated tag wins; writing the tag cleans up.
	if got, err := s.HeadManifest(ctx, "app", "v2"); err != nil || got.Digest != a.Descriptor().Digest {
		t.Errorf("HeadManifest(v2) = %s, %v; want %s", got.Digest, err, a.Descriptor().Digest)
	}
	if _, err := s.PutManifest(ctx, "app", "v2", "", b.Raw(), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.HeadManifest(ctx, "app", "v2"); err != nil || got.Digest != b.Descriptor().Digest {
		t.Errorf("HeadManifest(v2) after a put = %s, %v; want %s", got.Digest, err, b.Descriptor().Digest)
	}
	if n := countEntries(readIndex(t, dir, "app"), "v2"); n != 1 {
		t.Errorf("index.json has %d entries tagged v2, want 1", n)
	}
	if _, err := s.ListTags(ctx, "absent", transport.PageRequest{}); !errors.Is(err, transport.ErrNameUnknown) {
		t.Errorf("ListTags(unknown repository) = %v, want ErrNameUnknown", err)
	}
	if _, err := s.ListTags(ctx, "app", transport.PageRequest{N: -2}); !errors.Is(err, transport.ErrSizeInvalid) {
		t.Errorf("ListTags(n=-2) = %v, want ErrSizeInvalid", err)
	}
}

func countEntries(ix ocispec.Index, tag string) int {
	n := 0
	for _, e := range ix.Manifests {
		if e.Annotations[ocispec.AnnotationRefName] == tag {
			n++
		}
	}
	return n
}

func TestListReferrers(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	subject := push(t, s, "app", newImage(t, 1, nil), "1.0")
	artifact := func(artifactType string, i int) ocispec.Descriptor {
		t.Helper()
		opts := &image.Options{ArtifactType: artifactType, Subject: &subject, Annotations: map[string]string{"i": fmt.Sprint(i)}}
		layer := image.BytesBlob("application/octet-stream", []byte(fmt.Sprintf("artifact %d %s", i, randomHex(4))))
		cfg := image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}"))
		if artifactType == "" { // typed by its config
			cfg = image.BytesBlob("application/vnd.example.config", []byte(fmt.Sprintf(`{"i":%d}`, i)))
		}
		img, err := image.New(cfg, []image.Blob{layer}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return push(t, s, "app", img)
	}
	var sboms []ocispec.Descriptor
	for i := range 3 {
		sboms = append(sboms, artifact("application/spdx+json", i))
	}
	byConfig := artifact("", 9)
	// An index that refers to the subject too.
	ix, err := image.NewIndex([]ocispec.Descriptor{sboms[0]}, &image.Options{ArtifactType: "application/vnd.example.bundle", Subject: &subject})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutManifest(ctx, "app", string(ix.Descriptor().Digest), "", ix.Raw(), nil); err != nil {
		t.Fatal(err)
	}
	// Unrelated manifests and a tag on a referrer change nothing.
	push(t, s, "app", newImage(t, 1, nil), "2.0")
	if _, err := s.PutManifest(ctx, "app", "sbom", "", mustRaw(t, s, sboms[1]), nil); err != nil {
		t.Fatal(err)
	}

	sorted := func(ds ...ocispec.Descriptor) []digest.Digest {
		var out []digest.Digest
		for _, d := range ds {
			out = append(out, d.Digest)
		}
		slices.Sort(out)
		return out
	}
	allSBOMs := sorted(sboms...)
	tests := []struct {
		name         string
		artifactType string
		req          transport.PageRequest
		want         []digest.Digest
		wantNext     bool
	}{
		{name: "all", want: sorted(append(slices.Clone(sboms), byConfig, ix.Descriptor())...)},
		{name: "sboms", artifactType: "application/spdx+json", want: allSBOMs},
		{name: "by config type", artifactType: "application/vnd.example.config", want: sorted(byConfig)},
		{name: "index", artifactType: "application/vnd.example.bundle", want: sorted(ix.Descriptor())},
		{name: "none", artifactType: "application/none", want: nil},
		{name: "first page", artifactType: "application/spdx+json", req: transport.PageRequest{N: 2}, want: allSBOMs[:2], wantNext: true},
		{name: "second page", artifactType: "application/spdx+json", req: transport.PageRequest{Next: string(allSBOMs[1])}, want: allSBOMs[2:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListReferrers(ctx, "app", subject.Digest, tc.artifactType, tc.req)
			if err != nil {
				t.Fatalf("ListReferrers = %v", err)
			}
			got := sorted(page.Items...)
			if !slices.Equal(got, tc.want) || (page.Next != "") != tc.wantNext {
				t.Errorf("ListReferrers(%q, %+v) = %v next %q, want %v", tc.artifactType, tc.req, got, page.Next, tc.want)
			}
			for _, d := range page.Items {
				if d.ArtifactType == "" || d.MediaType == "" || d.Size == 0 {
					t.Errorf("referrer descriptor %+v lacks a field", d)
				}
			}
		})
	}
	page, err := s.ListReferrers(ctx, "app", sboms[0].Digest, "", transport.PageRequest{})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("ListReferrers(no referrers) = %v, %v", page.Items, err)
	}
	if page, err := s.ListReferrers(ctx, "absent", subject.Digest, "", transport.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Errorf("ListReferrers(unknown repository) = %v, %v; want an empty page", page.Items, err)
	}
	for _, tc := range []struct {
		name    string
		subject digest.Digest
		req     transport.PageRequest
		wantErr error
	}{
		{name: "bad subject", subject: "sha256:1", wantErr: transport.ErrDigestInvalid},
		{name: "negative n", subject: subject.Digest, req: transport.PageRequest{N: -1}, wantErr: transport.ErrSizeInvalid},
	} {
		_, err := s.ListReferrers(ctx, "app", tc.subject, "", tc.req)
		checkErr(t, "ListReferrers("+tc.name+")", err, tc.wantErr)
	}
	// The subject's own annotations are in each descriptor.
	first, err := s.ListReferrers(ctx, "app", subject.Digest, "application/vnd.example.config", transport.PageRequest{})
	if err != nil || len(first.Items) != 1 || first.Items[0].Annotations["i"] != "9" {
		t.Errorf("referrer annotations = %+v, %v", first.Items, err)
	}
}

// mustRaw returns the bytes of the manifest desc describes in app.
func mustRaw(t testing.TB, s *ocilayout.Store, desc ocispec.Descriptor) []byte {
	t.Helper()
	_, raw, err := s.GetManifest(t.Context(), "app", desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
