package registry_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/remote"
)

func TestOpenTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref      string
		wantRepo string // "" when an error is expected
		wantTag  string
		wantErr  error
	}{
		{ref: "ubuntu", wantRepo: "library/ubuntu", wantTag: "latest"},
		{ref: "ubuntu:24.04", wantRepo: "library/ubuntu", wantTag: "24.04"},
		{ref: "docker.io/library/ubuntu", wantRepo: "library/ubuntu", wantTag: "latest"},
		{ref: "index.docker.io/ubuntu:24.04", wantRepo: "library/ubuntu", wantTag: "24.04"},
		{ref: "amouat/revealjs", wantRepo: "amouat/revealjs", wantTag: "latest"},
		{ref: "ghcr.io/org/app:1.0", wantRepo: "org/app", wantTag: "1.0"},
		{ref: "localhost:5000/x", wantRepo: "x", wantTag: "latest"},
		{ref: "ghcr.io/Org/app:1.0", wantErr: reference.ErrUppercase},
		{ref: "ubuntu:-bad", wantErr: reference.ErrInvalidTag},
		{ref: "", wantErr: reference.ErrEmpty},
		{ref: "ubuntu@sha256:" + sha256Zero, wantErr: reference.ErrInvalidFormat},
		{ref: "ubuntu:24.04@sha256:" + sha256Zero, wantErr: reference.ErrInvalidFormat},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			tg, err := registry.OpenTag(tc.ref)
			if tc.wantErr != nil {
				var rerr *reference.Error
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &rerr) {
					t.Fatalf("OpenTag(%q) = %v, want a *reference.Error matching %v", tc.ref, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tg.Repository() != tc.wantRepo || tg.Name() != tc.wantTag {
				t.Errorf("OpenTag(%q) = %s:%s, want %s:%s", tc.ref, tg.Repository(), tg.Name(), tc.wantRepo, tc.wantTag)
			}
		})
	}
}

// sha256Zero is 64 hex digits: a well-formed sha256 encoding.
const sha256Zero = "0000000000000000000000000000000000000000000000000000000000000000"

func TestOpenRepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		wantRepo string
		wantErr  error
	}{
		{name: "ubuntu", wantRepo: "library/ubuntu"},
		{name: "docker.io/library/ubuntu", wantRepo: "library/ubuntu"},
		{name: "ghcr.io/org/app", wantRepo: "org/app"},
		{name: "localhost:5000/x", wantRepo: "x"},
		{name: "MyApp", wantErr: reference.ErrUppercase},
		{name: "ubuntu:24.04", wantErr: reference.ErrInvalidFormat},
		{name: "ubuntu@sha256:" + sha256Zero, wantErr: reference.ErrInvalidFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo, err := registry.OpenRepository(tc.name)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("OpenRepository(%q) = %v, want %v", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if repo.Name() != tc.wantRepo {
				t.Errorf("OpenRepository(%q).Name() = %q, want %q", tc.name, repo.Name(), tc.wantRepo)
			}
		})
	}
}

func TestRepositoryOfAndTagOf(t *testing.T) {
	t.Parallel()
	r := reference.MustParse("ghcr.io/org/app:1.0@sha256:" + sha256Zero)
	repo, err := registry.RepositoryOf(r)
	if err != nil || repo.Name() != "org/app" {
		t.Errorf("RepositoryOf(%v) = %v, %v; want org/app", r, repo, err)
	}
	tg, err := registry.TagOf(reference.Reference{Registry: "ghcr.io", Repository: "org/app"})
	if err != nil || tg.Name() != "latest" {
		t.Errorf("TagOf without a tag = %v, %v; want latest", tg, err)
	}
	if _, err := registry.RepositoryOf(reference.Reference{}); err == nil {
		t.Error("RepositoryOf(zero Reference) succeeded")
	}
}

// TestDockerHubNames checks that a one-component name on Docker Hub is in
// library/, and only there.
func TestDockerHubNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, name, want string
	}{
		{"docker.io", "ubuntu", "library/ubuntu"},
		{"index.docker.io", "ubuntu", "library/ubuntu"},
		{"registry-1.docker.io", "ubuntu", "library/ubuntu"},
		{"docker.io", "library/ubuntu", "library/ubuntu"},
		{"docker.io", "amouat/revealjs", "amouat/revealjs"},
		{"ghcr.io", "ubuntu", "ubuntu"},
		{"localhost:5000", "ubuntu", "ubuntu"},
		{"mydocker.io", "ubuntu", "ubuntu"},
	}
	for _, tc := range tests {
		reg, err := registry.New(tc.host)
		if err != nil {
			t.Fatal(err)
		}
		if got := reg.Repository(tc.name).Name(); got != tc.want {
			t.Errorf("New(%q).Repository(%q).Name() = %q, want %q", tc.host, tc.name, got, tc.want)
		}
	}
	if got := fake.New().Repository("ubuntu").Name(); got != "ubuntu" {
		t.Errorf("fake registry: Repository(%q).Name() = %q, want it unchanged", "ubuntu", got)
	}
}

// TestOpenTagDockerHubRequest sends OpenTag("ubuntu")'s request to a fake
// standing in for Docker Hub: it must go to registry-1.docker.io, for
// /v2/library/ubuntu/manifests/latest.
func TestOpenTagDockerHubRequest(t *testing.T) {
	t.Parallel()
	srv := fake.Serve(t)
	var mu sync.Mutex
	var sent []string // host and path of each request, as the client made it
	hub := rtFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
		mu.Unlock()
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = "http", srv.Host, srv.Host
		return http.DefaultTransport.RoundTrip(r)
	})
	tg, err := registry.OpenTag("ubuntu", registry.WithClientOptions(remote.WithRoundTripper(hub)))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := tg.Exists(t.Context()); err != nil || ok {
		t.Fatalf("Exists = %v, %v; want false, nil", ok, err)
	}
	const want = "https://registry-1.docker.io/v2/library/ubuntu/manifests/latest"
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 || sent[0] != want {
		t.Errorf("requests = %q, want [%s]", sent, want)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Path != "/v2/library/ubuntu/manifests/latest" {
		t.Errorf("server saw %+v", reqs)
	}
}
