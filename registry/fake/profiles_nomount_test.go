package fake_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry/fake"
)

// TestProfileNoMountRaw checks that a server without mounts opens an
// upload session (202) for every mount POST, from the target repository
// or another, whether or not the blob is there, and that the session
// takes the blob.
func TestProfileNoMountRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		profiles []fake.Profile
		from     string
		want     int
	}{
		{name: "mounts, same repository", from: "app", want: http.StatusCreated},
		{name: "mounts, another repository", from: "base", want: http.StatusCreated},
		{name: "no mounts, same repository", profiles: []fake.Profile{fake.ProfileNoMount}, from: "app", want: http.StatusAccepted},
		{name: "no mounts, another repository", profiles: []fake.Profile{fake.ProfileNoMount}, from: "base", want: http.StatusAccepted},
		{name: "no mounts, Harbor", profiles: []fake.Profile{fake.ProfileNoMount, fake.ProfileHarbor}, from: "base", want: http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, fake.WithProfile(tc.profiles...))
			data := []byte("a shared layer")
			desc := ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))}
			for _, repo := range []string{"base", "app"} {
				if err := srv.Store.PutBlob(t.Context(), repo, desc, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			d := desc.Digest
			r := regtest.Send(t, http.MethodPost, srv.URL+"/v2/app/blobs/uploads/?mount="+d.String()+"&from="+tc.from, nil)
			if r.Status != tc.want {
				t.Fatalf("POST mount from %s = %d %s, want %d", tc.from, r.Status, r.Body, tc.want)
			}
			if r.Status != http.StatusAccepted {
				return
			}
			loc := r.Header.Get("Location")
			sep := "?"
			if strings.Contains(loc, "?") {
				sep = "&"
			}
			if !strings.HasPrefix(loc, "http") {
				loc = srv.URL + loc
			}
			r = regtest.Send(t, http.MethodPut, loc+sep+"digest="+d.String(), data, "Content-Type", "application/octet-stream")
			if r.Status != http.StatusCreated {
				t.Errorf("PUT to the session = %d %s, want 201", r.Status, r.Body)
			}
		})
	}
	if got := fake.ProfileNoMount.String(); got != "NoMount" {
		t.Errorf("ProfileNoMount.String() = %q", got)
	}
}

// TestProfileNoMount copies within a server without mounts: every blob is
// copied, none mounted; and copies an image to a repository that has its
// layers already, with a new client: they do not move.
func TestProfileNoMount(t *testing.T) {
	t.Parallel()
	for _, tc := range mountTargets(fake.ProfileNoMount) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv := fake.Serve(t, tc.opts...)
			rep := copyWithin(t, srv, tc.auth)
			if n := rep.Count(regkit.Mounted); n != 0 {
				t.Errorf("%d blobs mounted, want 0", n)
			}
			if n := rep.Count(regkit.Copied); n != 4 {
				t.Errorf("%d copied, want 4 (3 blobs and the manifest)", n)
			}

			// Again, to a third repository that has the layers, with a
			// fresh client: only the config and the manifest move.
			reg := client(t, srv, tc.auth)
			img := testImage(t, "mount")
			third := reg.Repository("team/third")
			for _, l := range img.Layers() {
				if err := third.PushBlob(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			reg = client(t, srv, tc.auth)
			srv.ResetRequests()
			rep, err := regkit.Copy(ctx, reg.Repository("src"), "v1", reg.Repository(third.Name()), nil)
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			reqs := srv.Requests()
			pullAndCheck(t, third, "v1", img)
			if n := rep.Count(regkit.Skipped); n != 2 {
				t.Errorf("%d skipped, want 2 (the layers):\n%+v", n, rep)
			}
			if got, want := rep.Bytes(), img.Descriptor().Size+img.Config().Descriptor().Size; got != want {
				t.Errorf("copy moved %d bytes, want %d (the config and the manifest)", got, want)
			}
			moved := 0
			for _, r := range reqs {
				if r.Method == http.MethodGet && r.Route == fake.RouteBlob {
					moved++
				}
			}
			if moved != 1 {
				t.Errorf("%d blob GETs, want 1 (the config)", moved)
			}
		})
	}
}
