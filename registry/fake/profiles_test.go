package fake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport/remote"
)

const alicePassword = "wonderland"

// testImage returns an image of two small layers, unique to name.
func testImage(t *testing.T, name string) *image.Image {
	t.Helper()
	var contents [][]byte
	for i := range 2 {
		contents = append(contents, []byte(fmt.Sprintf("%s layer %d %s", name, i, strings.Repeat("x", 100*i))))
	}
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "", ocispec.MediaTypeImageLayer,
		contents, map[string]string{"name": name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// client returns regkit's client of srv, as alice when withAuth.
func client(t *testing.T, srv *fake.Server, withAuth bool) *registry.Registry {
	t.Helper()
	var opts []registry.Option
	if withAuth {
		opts = append(opts, registry.WithAuth(auth.Static(srv.Host, auth.Credential{Username: "alice", Password: alicePassword})))
	}
	return srv.Registry(opts...)
}

// pullAndCheck pulls ref from repo, reading and verifying every blob, and
// checks that it is img.
func pullAndCheck(t *testing.T, repo *repository.Repository, ref string, img *image.Image) {
	t.Helper()
	got, err := repo.Tag(ref).Image(t.Context())
	if err != nil {
		t.Fatalf("pull %s:%s: %v", repo.Name(), ref, err)
	}
	if got.Descriptor().Digest != img.Descriptor().Digest {
		t.Fatalf("pull %s:%s = %s, want %s", repo.Name(), ref, got.Descriptor().Digest, img.Descriptor().Digest)
	}
	for _, b := range got.Blobs() {
		rc, err := repo.Blob(t.Context(), b.Descriptor())
		if err != nil {
			t.Fatalf("open blob %s: %v", b.Descriptor().Digest, err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read blob %s: %v", b.Descriptor().Digest, err)
		}
	}
}

// countRequests counts the logged requests with method to route, by status.
func countRequests(srv *fake.Server, method string, route fake.Route) map[int]int {
	n := map[int]int{}
	for _, r := range srv.Requests() {
		if r.Method == method && r.Route == route {
			n[r.Status]++
		}
	}
	return n
}

// TestProfileECR lists 1005 tags through regkit's client from a server
// that caps tag pages at 1000: two pages.
func TestProfileECR(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := fake.Serve(t, fake.WithProfile(fake.ProfileECR))
	repo := client(t, srv, false).Repository("app")
	img := testImage(t, "ecr")
	if _, err := repo.Push(ctx, img, "t0000"); err != nil {
		t.Fatal(err)
	}
	_, raw, err := srv.Store.GetManifest(ctx, "app", "t0000")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"t0000"}
	for i := 1; i < 1005; i++ {
		tag := fmt.Sprintf("t%04d", i)
		if _, err := srv.Store.PutManifest(ctx, "app", tag, ocispec.MediaTypeImageManifest, raw, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, tag)
	}
	srv.ResetRequests()
	var got []string
	for tag, err := range repo.Tags(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tag)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Tags = %d tags, want %d", len(got), len(want))
	}
	if n := countRequests(srv, http.MethodGet, fake.RouteTags)[200]; n != 2 {
		t.Errorf("%d tag pages, want 2 (1000 + 5)", n)
	}

	for _, tc := range []struct {
		query string
		want  int
		link  bool
	}{{"", 1000, true}, {"?n=5000", 1000, true}, {"?n=10", 10, true}, {"?n=2000&last=t1000", 4, false}} {
		resp, err := http.Get(srv.URL + "/v2/app/tags/list" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ Tags []string }
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(list.Tags); n != tc.want || (resp.Header.Get("Link") != "") != tc.link {
			t.Errorf("GET tags/list%s = %d tags, Link %q; want %d, link %v", tc.query, n, resp.Header.Get("Link"), tc.want, tc.link)
		}
	}
}

// TestProfileGHCR pushes an image and an SBOM that refers to it to a server
// without the referrers API: regkit's client keeps the fallback tag and
// lists the SBOM through it.
func TestProfileGHCR(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := fake.Serve(t, fake.WithProfile(fake.ProfileGHCR))
	repo := client(t, srv, false).Repository("app")
	img := testImage(t, "ghcr")
	desc, err := repo.Push(ctx, img, "v1")
	if err != nil {
		t.Fatal(err)
	}
	sbom, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		[]image.Blob{image.BytesBlob("application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`))},
		&image.Options{ArtifactType: "application/spdx+json", Subject: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Push(ctx, sbom); err != nil {
		t.Fatal(err)
	}
	var refs []digest.Digest
	for d, err := range repo.Referrers(ctx, desc.Digest, nil) {
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, d.Digest)
	}
	if !slices.Equal(refs, []digest.Digest{sbom.Descriptor().Digest}) {
		t.Errorf("Referrers = %v, want the SBOM %s", refs, sbom.Descriptor().Digest)
	}
	fallback := "sha256-" + desc.Digest.Encoded()
	if _, err := srv.Store.HeadManifest(ctx, "app", fallback); err != nil {
		t.Errorf("the fallback tag %s: %v", fallback, err)
	}
	if n := countRequests(srv, http.MethodGet, fake.RouteReferrers)[404]; n == 0 {
		t.Errorf("no referrers request got 404")
	}
	resp, err := http.Get(srv.URL + "/v2/app/referrers/" + desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET referrers = %d %s, want 404 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// mountTarget is a server a mount test copies within.
type mountTarget struct {
	name string
	opts []fake.ServerOption
	auth bool
}

// mountTargets returns a profile's server without authentication and
// behind each kind, alice allowed everything.
func mountTargets(p fake.Profile) []mountTarget {
	users := map[string]string{"alice": alicePassword}
	return []mountTarget{
		{name: "no auth", opts: []fake.ServerOption{fake.WithProfile(p)}},
		{name: "basic", opts: []fake.ServerOption{fake.WithProfile(p), fake.WithBasicAuth(users)}, auth: true},
		{name: "token", opts: []fake.ServerOption{fake.WithProfile(p), fake.WithTokenAuth(users)}, auth: true},
	}
}

// copyWithin pushes an image to src and copies it to dst with regkit.Copy
// on one server, checks the copy by pulling it, and returns the report.
func copyWithin(t *testing.T, srv *fake.Server, withAuth bool) *regkit.CopyReport {
	t.Helper()
	ctx := t.Context()
	reg := client(t, srv, withAuth)
	src, dst := reg.Repository("src"), reg.Repository("team/dst")
	img := testImage(t, "mount")
	if _, err := src.Push(ctx, img, "v1"); err != nil {
		t.Fatal(err)
	}
	rep, err := regkit.Copy(ctx, src, "v1", dst, nil)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	pullAndCheck(t, dst, "v1", img)
	return rep
}

// TestProfileDockerHub copies within a server whose mounts need pull on
// the source: regkit's client asks for it, so blobs are mounted.
func TestProfileDockerHub(t *testing.T) {
	t.Parallel()
	for _, tc := range mountTargets(fake.ProfileDockerHub) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, tc.opts...)
			rep := copyWithin(t, srv, tc.auth)
			if n := rep.Count(regkit.Mounted); n != 3 {
				t.Errorf("%d blobs mounted, want 3", n)
			}
		})
	}
}

// TestProfileHarbor copies within a server that refuses cross-repository
// mounts with 401: regkit's client falls back to copying the blobs.
func TestProfileHarbor(t *testing.T) {
	t.Parallel()
	for _, tc := range mountTargets(fake.ProfileHarbor) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, tc.opts...)
			rep := copyWithin(t, srv, tc.auth)
			if n := rep.Count(regkit.Mounted); n != 0 {
				t.Errorf("%d blobs mounted, want 0", n)
			}
			if n := countRequests(srv, http.MethodPost, fake.RouteUpload)[401]; n == 0 {
				t.Errorf("no mount got 401")
			}
		})
	}
}

// TestProfileS3 pulls from a server that redirects blob GETs to a blob
// host that refuses credentials, as alice behind token authentication
// (whose registry requests carry a token) and anonymously, and once with
// a connection dropped by the blob host, which the client resumes there.
func TestProfileS3(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": alicePassword}
	tests := []struct {
		name string
		opts []fake.ServerOption
		auth bool
	}{
		{name: "no auth", opts: []fake.ServerOption{fake.WithProfile(fake.ProfileS3)}},
		{name: "token", opts: []fake.ServerOption{fake.WithProfile(fake.ProfileS3), fake.WithTokenAuth(users)}, auth: true},
		{name: "ECR", opts: []fake.ServerOption{fake.WithProfile(fake.ProfileECR, fake.ProfileS3), fake.WithBasicAuth(users)}, auth: true},
		{name: "dropped connection", opts: []fake.ServerOption{fake.WithProfile(fake.ProfileS3),
			fake.WithFaults(fake.DropAfter(10).On("GET", fake.RouteBlobHost).Times(1))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, tc.opts...)
			repo := client(t, srv, tc.auth).Repository("app")
			img := testImage(t, "s3")
			if _, err := repo.Push(t.Context(), img, "v1"); err != nil {
				t.Fatal(err)
			}
			pullAndCheck(t, repo, "v1", img)
			if n := countRequests(srv, http.MethodGet, fake.RouteBlob)[307]; n < 3 {
				t.Errorf("%d blob GETs redirected, want at least 3", n)
			}
			// The server logs a request once its handler returns, which
			// can come a moment after the client has read the last byte.
			hosted := countRequests(srv, http.MethodGet, fake.RouteBlobHost)
			for deadline := time.Now().Add(2 * time.Second); hosted[200]+hosted[206] < 3 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				hosted = countRequests(srv, http.MethodGet, fake.RouteBlobHost)
			}
			if hosted[200]+hosted[206] < 3 || hosted[400] > 0 {
				t.Errorf("blob host answers %v, want at least 3 successes and no 400", hosted)
			}
		})
	}
}

// TestProfileS3Bytes checks the bytes the blob host serves, whole and as a
// range.
func TestProfileS3Bytes(t *testing.T) {
	t.Parallel()
	srv := fake.Serve(t, fake.WithProfile(fake.ProfileS3))
	data := []byte("the bytes of a blob on the blob host")
	d := digest.FromBytes(data)
	if err := srv.Store.PutBlob(t.Context(), "app", ocispec.Descriptor{Digest: d, Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + "/v2/app/blobs/" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(loc, "X-Amz-Signature=") || strings.HasPrefix(loc, srv.URL) {
		t.Fatalf("GET blob = %d, Location %q; want 307 to another host, signed", resp.StatusCode, loc)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, loc, nil)
	req.Header.Set("Range", "bytes=4-8")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(body) != "bytes" {
		t.Errorf("GET range 4-8 of the blob host = %d %q, want 206 \"bytes\"", resp.StatusCode, body)
	}
	if _, err := repository.New(newClient(t, srv.Host), "app").Blob(t.Context(), ocispec.Descriptor{Digest: d, Size: int64(len(data))}); err != nil {
		t.Errorf("Blob through the redirect: %v", err)
	}
}

func newClient(t *testing.T, host string) *remote.Client {
	t.Helper()
	c, err := remote.New(host)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
