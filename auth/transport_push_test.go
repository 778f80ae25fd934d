package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
	"github.com/regkit/regkit/transport/server"
)

// onlyReader hides the type of a reader, so that requests made from it
// cannot be replayed (no GetBody): the bytes stream as in a real push.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// pushImage pushes a 20-layer image to repo through cl, layers in
// parallel when workers > 1, each checked with a HEAD first if statFirst,
// and returns its manifest.
func pushImage(ctx context.Context, t *testing.T, cl *remote.Client, repo string, workers int, statFirst bool) ocispec.Manifest {
	t.Helper()
	var m ocispec.Manifest
	m.SchemaVersion, m.MediaType = 2, ocispec.MediaTypeImageManifest
	var blobs [][]byte
	for i := range 20 {
		blobs = append(blobs, []byte(strings.Repeat(fmt.Sprintf("layer %d;", i), 200*(i+1))))
	}
	m.Layers = make([]ocispec.Descriptor, len(blobs))
	for i, b := range blobs {
		m.Layers[i] = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(b), Size: int64(len(b))}
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}

	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	errs := make(chan error, len(blobs)+1)
	put := func(d ocispec.Descriptor, b []byte) {
		sem <- struct{}{}
		defer func() { <-sem }()
		if statFirst {
			if _, err := cl.StatBlob(ctx, repo, d.Digest); !errors.Is(err, transport.ErrNotFound) {
				errs <- fmt.Errorf("stat %s: %v, want not found", d.Digest, err)
				return
			}
		}
		if err := cl.PutBlob(ctx, repo, d, onlyReader{strings.NewReader(string(b))}); err != nil {
			errs <- fmt.Errorf("put %s: %w", d.Digest, err)
		}
	}
	for i, b := range blobs {
		wg.Go(func() { put(m.Layers[i], b) })
	}
	wg.Go(func() { put(m.Config, cfg) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutManifest(ctx, repo, "v1", ocispec.MediaTypeImageManifest, body, nil); err != nil {
		t.Fatalf("put manifest: %v", err)
	}
	return m
}

// TestPushTokenCount measures a 20-layer push, and a pull of it, through
// the regkit HTTP client to a registry behind token auth.
func TestPushTokenCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		workers     int
		statFirst   bool
		hint        bool
		wantFetches int64 // at most
	}{
		{"sequential", 1, false, false, 2},
		{"parallel layers", 8, false, false, 2},
		{"sequential, HEAD before each blob", 1, true, false, 2},
		{"parallel, HEAD before each blob", 8, true, false, 2},
		{"sequential with a push scope hint", 1, false, true, 1},
		{"parallel, HEAD first, with a push scope hint", 8, true, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newAuthRegistry(t, server.NewHandler(fake.NewStore()))
			reg.user, reg.pass = "alice", "s3cret"
			tr := auth.NewRoundTripper(reg.host, &rtStore{cred: auth.Credential{Username: "alice", Password: "s3cret"}}, nil)
			cl, err := remote.New(reg.host, remote.WithRoundTripper(tr))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tc.hint {
				ctx = auth.WithScopes(ctx, auth.Scope{Resource: "repository:team/app", Actions: []string{"pull", "push"}})
			}
			m := pushImage(ctx, t, cl, "team/app", tc.workers, tc.statFirst)
			pushReqs, pushFetches, pushChallenges := reg.requests.Load(), reg.fetches.Load(), reg.challenges.Load()
			t.Logf("push: %d registry requests, %d token fetches, %d challenges", pushReqs, pushFetches, pushChallenges)
			if pushFetches > tc.wantFetches {
				t.Errorf("push fetched %d tokens, want at most %d", pushFetches, tc.wantFetches)
			}
			if pushChallenges > 1 && tc.workers == 1 {
				t.Errorf("sequential push got %d challenges, want 1", pushChallenges)
			}

			// Pull it back: the push token covers pull.
			if _, _, err := cl.GetManifest(t.Context(), "team/app", "v1"); err != nil {
				t.Fatal(err)
			}
			for _, l := range m.Layers {
				rc, _, err := cl.GetBlob(t.Context(), "team/app", l.Digest)
				if err != nil {
					t.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, rc)
				rc.Close()
				if n != l.Size {
					t.Fatalf("blob %s: read %d bytes, want %d", l.Digest, n, l.Size)
				}
			}
			t.Logf("pull: %d registry requests, %d token fetches", reg.requests.Load()-pushReqs, reg.fetches.Load()-pushFetches)
			if reg.fetches.Load() != pushFetches || reg.challenges.Load() != pushChallenges {
				t.Errorf("pull fetched %d tokens and got %d challenges, want none", reg.fetches.Load()-pushFetches, reg.challenges.Load()-pushChallenges)
			}
		})
	}
}

// TestCrossRepositoryMount checks that a mount asks for pull on its
// source along with push on its target.
func TestCrossRepositoryMount(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, server.NewHandler(fake.NewStore()))
	reg.anonymous = true
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	cl, err := remote.New(reg.host, remote.WithRoundTripper(tr))
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("shared layer")
	d := ocispec.Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))}
	if err := cl.PutBlob(t.Context(), "base", d, strings.NewReader(string(b))); err != nil {
		t.Fatal(err)
	}
	before := reg.fetches.Load()
	if err := cl.MountBlob(t.Context(), "app", "base", d.Digest); err != nil {
		t.Fatalf("mount: %v", err)
	}
	if got := reg.fetches.Load() - before; got != 1 {
		t.Errorf("mount fetched %d tokens, want 1", got)
	}
	want := []string{"repository:app:pull,push", "repository:base:pull"}
	if got := reg.lastTokenReq().scopes; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("mount token scopes = %q, want %q", got, want)
	}
}

// TestRegistryPushTokenCount measures a push of a 20-layer image through
// the object model (registry → repository → HTTP client), a re-push and a
// pull, against a registry behind token auth with a password.
func TestRegistryPushTokenCount(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, server.NewHandler(fake.NewStore()))
	reg.user, reg.pass = "alice", "s3cret"
	r, err := registry.New(reg.host, registry.WithAuth(&rtStore{cred: auth.Credential{Username: "alice", Password: "s3cret"}}))
	if err != nil {
		t.Fatal(err)
	}
	repo := r.Repository("team/app")
	var contents [][]byte
	for i := range 20 {
		contents = append(contents, []byte(strings.Repeat(fmt.Sprintf("layer %d;", i), 500)))
	}
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "", ocispec.MediaTypeImageLayer, contents, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	step := func(name string, f func() error) (reqs, fetches, challenges int64) {
		t.Helper()
		r0, f0, c0 := reg.requests.Load(), reg.fetches.Load(), reg.challenges.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		reqs, fetches, challenges = reg.requests.Load()-r0, reg.fetches.Load()-f0, reg.challenges.Load()-c0
		t.Logf("%s: %d registry requests, %d token fetches, %d challenges", name, reqs, fetches, challenges)
		return reqs, fetches, challenges
	}
	push := func() error { _, err := repo.Push(t.Context(), img, "v1"); return err }
	if _, f, c := step("push", push); f > 2 || c > 1 {
		t.Errorf("push: %d token fetches and %d challenges, want at most 2 and 1", f, c)
	}
	if _, f, c := step("re-push", push); f != 0 || c != 0 {
		t.Errorf("re-push: %d token fetches and %d challenges, want none", f, c)
	}
	pull := func() error {
		pulled, err := repo.Tag("v1").Image(t.Context())
		if err != nil {
			return err
		}
		for _, l := range pulled.Layers() {
			rc, err := l.Open(t.Context())
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	if _, f, c := step("pull", pull); f != 0 || c != 0 {
		t.Errorf("pull: %d token fetches and %d challenges, want none", f, c)
	}
	// With the push scope asked for up front, one token serves the push.
	other := r.Repository("team/other")
	ctx := auth.WithScopes(t.Context(), auth.Scope{Resource: "repository:team/other", Actions: []string{"pull", "push"}})
	hinted := func() error { _, err := other.Push(ctx, img, "v1"); return err }
	if _, f, c := step("push to a new repository with a scope hint", hinted); f != 1 || c != 0 {
		t.Errorf("hinted push: %d token fetches and %d challenges, want 1 and 0", f, c)
	}
}
