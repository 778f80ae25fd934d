package remote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/remote"
)

// uploadMeter counts a client's requests by method and endpoint kind, and
// the blob bytes it sends (the bodies of requests to /blobs/uploads/).
// With refuseMounts it answers every mount POST itself with 405
// UNSUPPORTED, as registries that refuse mounts do.
type uploadMeter struct {
	base         http.RoundTripper
	refuseMounts bool

	mu    sync.Mutex
	n     map[string]int
	bytes int64
}

func (m *uploadMeter) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := "other"
	for _, k := range []string{"/blobs/uploads/", "/manifests/", "/blobs/"} {
		if strings.Contains(r.URL.Path, k) {
			kind = strings.Trim(k, "/")
			break
		}
	}
	m.mu.Lock()
	m.n[r.Method+" "+kind]++
	if kind == "blobs/uploads" && r.ContentLength > 0 {
		m.bytes += r.ContentLength
	}
	m.mu.Unlock()
	if m.refuseMounts && r.Method == http.MethodPost && r.URL.Query().Has("mount") {
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{
			StatusCode: http.StatusMethodNotAllowed, Status: "405 Method Not Allowed", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"errors":[{"code":"UNSUPPORTED","message":"blob mounts are not supported"}]}`)),
			Request: r,
		}, nil
	}
	return m.base.RoundTrip(r)
}

// take returns the requests and blob bytes counted since the last take,
// and starts counting again.
func (m *uploadMeter) take() (requests int, bytes int64, log string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k, v := range m.n {
		requests += v
		keys = append(keys, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(keys)
	bytes, log = m.bytes, strings.Join(keys, ", ")
	m.n, m.bytes = map[string]int{}, 0
	return requests, bytes, log
}

// stackImage builds an image of n small layers: n-1 base layers, the same
// in every image of one test, and top, with a config that names nonce.
func stackImage(t *testing.T, n int, top, nonce string) *image.Image {
	t.Helper()
	contents := make([]string, n)
	for i := range n - 1 {
		contents[i] = fmt.Sprintf("base layer %d of %s", i, t.Name())
	}
	contents[n-1] = top
	return imageOf(t, nonce, contents...)
}

// imageOf builds an image of one small layer per content, bottom first,
// with a config that names nonce.
func imageOf(t *testing.T, nonce string, contents ...string) *image.Image {
	t.Helper()
	var layers []image.Blob
	var diffIDs []string
	for _, content := range contents {
		b := image.BytesBlob(ocispec.MediaTypeImageLayer, []byte(content))
		layers = append(layers, b)
		diffIDs = append(diffIDs, b.Descriptor().Digest.String())
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
		"config": map[string]any{"Labels": map[string]string{"nonce": nonce}}})
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, cfg), layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// newBytes returns the bytes of the blobs of img that base lacks.
func newBytes(img, base *image.Image) int64 {
	have := map[string]bool{}
	for _, b := range base.Blobs() {
		have[b.Descriptor().Digest.String()] = true
	}
	var n int64
	for _, b := range img.Blobs() {
		if d := b.Descriptor(); !have[d.Digest.String()] {
			n += d.Size
		}
	}
	return n
}

// TestPushSharedBase pushes image A (20 layers) with one client, then,
// with a new client, image B that shares its 19 bottom layers, then, with
// that client again, image C that shares them too: on a registry that
// mounts, on one that ignores mounts (ProfileNoMount) and on one that
// refuses them, B and C upload only their new layer and config. The
// client learns how the registry answers a mount once: on the first
// blob it asks about, its bottom layer, which A's push stored.
func TestPushSharedBase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		profiles     []fake.Profile
		refuseMounts bool
		concurrency  int
		// wantB and wantC are the requests of B's and C's push; 0 when
		// they depend on how many blobs were asked about at once before
		// the client learned how the registry answers mounts.
		wantB, wantC int
	}{
		// HEAD of the tag; 19 mounts (201: the registry mounts, learned
		// from the first); POST (202) and PUT of the top layer and the
		// config; the manifest PUT.
		{name: "mounts", concurrency: 1, wantB: 1 + 19 + 2*2 + 1, wantC: 1 + 19 + 2*2 + 1},
		{name: "mounts, parallel", wantB: 1 + 19 + 2*2 + 1, wantC: 1 + 19 + 2*2 + 1},
		// B: HEAD of the tag; the bottom layer's mount POST (202), the
		// probe HEAD (200: the registry ignores mounts) and the DELETE of
		// the session the POST opened; a HEAD (200) for each of the 18
		// other shared layers; HEAD (404) and one POST with the blob for
		// the top layer and for the config; the manifest PUT. C: the same
		// without the mount POST and the DELETE.
		{name: "no mounts", profiles: []fake.Profile{fake.ProfileNoMount}, concurrency: 1,
			wantB: 1 + 3 + 18 + 2*2 + 1, wantC: 1 + 19 + 2*2 + 1},
		// In parallel too: the other layers wait for the probe's verdict
		// before they ask, so no mount POST is sent that needs a DELETE.
		{name: "no mounts, parallel", profiles: []fake.Profile{fake.ProfileNoMount},
			wantB: 1 + 3 + 18 + 2*2 + 1, wantC: 1 + 19 + 2*2 + 1},
		// B: as without mounts, but the refused POST settles it: no
		// probe, no session to delete.
		{name: "mounts refused", refuseMounts: true, concurrency: 1,
			wantB: 1 + 2 + 18 + 2*2 + 1, wantC: 1 + 19 + 2*2 + 1},
		// 26 or 27: the config, which does not wait for the verdict, may
		// send its own refused POST before it.
		{name: "mounts refused, parallel", refuseMounts: true, wantC: 1 + 19 + 2*2 + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv := fake.Serve(t, fake.WithProfile(tc.profiles...))
			newRepo := func() (*uploadMeter, func(img *image.Image, tag string)) {
				m := &uploadMeter{base: http.DefaultTransport.(*http.Transport).Clone(), refuseMounts: tc.refuseMounts, n: map[string]int{}}
				c, err := remote.New(srv.Host, remote.WithRoundTripper(m), remote.WithMaxConcurrency(tc.concurrency))
				if err != nil {
					t.Fatal(err)
				}
				repo := registry.FromTransport(c).Repository("app")
				return m, func(img *image.Image, tag string) {
					t.Helper()
					if _, err := repo.Push(ctx, img, tag); err != nil {
						t.Fatalf("Push(%s) = %v", tag, err)
					}
				}
			}
			a := stackImage(t, 20, "top of A", "A")
			b := stackImage(t, 20, "top of B", "B")
			c := stackImage(t, 20, "top of C", "C")

			_, pushA := newRepo()
			pushA(a, "a")

			m, push := newRepo()
			push(b, "b")
			n, sent, log := m.take()
			t.Logf("push of B (19 of 20 layers in the repository), new client: %d requests (%s), %d blob bytes", n, log, sent)
			if want := newBytes(b, a); sent != want {
				t.Errorf("push of B sent %d blob bytes, want %d (its top layer and config)", sent, want)
			}
			if tc.wantB != 0 && n != tc.wantB {
				t.Errorf("push of B: %d requests (%s), want %d", n, log, tc.wantB)
			}
			if n > 44 {
				t.Errorf("push of B: %d requests (%s), more than a push of 20 new layers", n, log)
			}

			push(c, "c")
			n, sent, log = m.take()
			t.Logf("push of C, same client: %d requests (%s), %d blob bytes", n, log, sent)
			if want := newBytes(c, a); sent != want {
				t.Errorf("push of C sent %d blob bytes, want %d (its top layer and config)", sent, want)
			}
			if n != tc.wantC {
				t.Errorf("push of C: %d requests (%s), want %d", n, log, tc.wantC)
			}
		})
	}
}

// TestPutBlobMountProbe puts blobs one by one and checks the requests each
// costs as the client learns how the registry answers a mount from the
// repository itself: an image config's 202 teaches nothing; the first
// layer's 202 is followed by one HEAD; after that, a registry that mounts
// is asked with mounts alone, one that ignores them with HEAD alone.
func TestPutBlobMountProbe(t *testing.T) {
	t.Parallel()
	type put struct {
		blob   string
		config bool
		there  bool   // the repository has it before
		want   string // the requests, as uploadMeter counts them
		bytes  bool   // whether its bytes are sent
	}
	tests := []struct {
		name     string
		profiles []fake.Profile
		puts     []put
	}{
		{name: "mounts", puts: []put{
			{blob: "config", config: true, want: "POST blobs/uploads: 1, PUT blobs/uploads: 1", bytes: true},
			{blob: "new layer", want: "HEAD blobs: 1, POST blobs/uploads: 1, PUT blobs/uploads: 1", bytes: true},
			{blob: "another new layer", want: "POST blobs/uploads: 1, PUT blobs/uploads: 1", bytes: true},
			{blob: "old layer", there: true, want: "POST blobs/uploads: 1"},
		}},
		{name: "mounts, first layer there", puts: []put{
			{blob: "old layer", there: true, want: "POST blobs/uploads: 1"},
			{blob: "new layer", want: "POST blobs/uploads: 1, PUT blobs/uploads: 1", bytes: true},
		}},
		{name: "no mounts", profiles: []fake.Profile{fake.ProfileNoMount}, puts: []put{
			{blob: "config", config: true, want: "POST blobs/uploads: 1, PUT blobs/uploads: 1", bytes: true},
			{blob: "old layer", there: true, want: "DELETE blobs/uploads: 1, HEAD blobs: 1, POST blobs/uploads: 1"},
			{blob: "another old layer", there: true, want: "HEAD blobs: 1"},
			{blob: "new layer", want: "HEAD blobs: 1, POST blobs/uploads: 1", bytes: true},
			{blob: "old config", config: true, there: true, want: "HEAD blobs: 1"},
		}},
		{name: "no mounts, old config first", profiles: []fake.Profile{fake.ProfileNoMount}, puts: []put{
			// Taken to be missing: the one blob sent again.
			{blob: "old config", config: true, there: true, want: "POST blobs/uploads: 1, PUT blobs/uploads: 1", bytes: true},
			{blob: "old layer", there: true, want: "DELETE blobs/uploads: 1, HEAD blobs: 1, POST blobs/uploads: 1"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv := fake.Serve(t, fake.WithProfile(tc.profiles...))
			m := &uploadMeter{base: http.DefaultTransport.(*http.Transport).Clone(), n: map[string]int{}}
			c, err := remote.New(srv.Host, remote.WithRoundTripper(m))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.puts {
				data := []byte(p.blob)
				desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(data), Size: int64(len(data))}
				if p.config {
					desc.MediaType = ocispec.MediaTypeImageConfig
				}
				if p.there {
					if err := srv.Store.PutBlob(ctx, "app", desc, bytes.NewReader(data)); err != nil {
						t.Fatal(err)
					}
				}
				if err := c.PutBlob(ctx, "app", desc, bytes.NewReader(data)); err != nil {
					t.Fatalf("PutBlob(%s) = %v", p.blob, err)
				}
				_, sent, log := m.take()
				if log != p.want || (sent > 0) != p.bytes {
					t.Errorf("PutBlob(%s): %s, %d blob bytes; want %s, bytes sent %v", p.blob, log, sent, p.want, p.bytes)
				}
				if srv.Store.Uploads() != 0 {
					t.Errorf("PutBlob(%s) left %d upload sessions open", p.blob, srv.Store.Uploads())
				}
			}
		})
	}
}

// TestMountProbeCanceled cancels the upload whose HEAD is settling what a
// 202 to a mount means, while another upload waits for that verdict: the
// waiter must not wait forever, but probe in turn and upload its blob.
func TestMountProbeCanceled(t *testing.T) {
	t.Parallel()
	srv := fake.Serve(t, fake.WithProfile(fake.ProfileNoMount),
		fake.WithFaults(fake.Delay(time.Minute).On("HEAD", fake.RouteBlob).Times(1)))
	heads := make(chan struct{}, 10)
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/") {
			heads <- struct{}{}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := remote.New(srv.Host, remote.WithRoundTripper(rt))
	if err != nil {
		t.Fatal(err)
	}
	layer := func(s string) (ocispec.Descriptor, []byte) {
		b := []byte(s)
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(b), Size: int64(len(b))}, b
	}
	a, aBytes := layer("layer a")
	b, bBytes := layer("layer b")

	ctxA, cancelA := context.WithCancel(t.Context())
	errA := make(chan error, 1)
	go func() { errA <- c.PutBlob(ctxA, "app", a, bytes.NewReader(aBytes)) }()
	// Wait until A's probe HEAD is under way (held by the delay).
	select {
	case <-heads:
	case <-time.After(10 * time.Second):
		t.Fatal("A's probe HEAD never came")
	}
	errB := make(chan error, 1)
	go func() { errB <- c.PutBlob(t.Context(), "app", b, bytes.NewReader(bBytes)) }()
	time.Sleep(50 * time.Millisecond) // B is waiting for A's verdict
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Errorf("A = %v, want context.Canceled", err)
	}
	select {
	case err := <-errB:
		if err != nil {
			t.Fatalf("B = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("B still waits for the verdict of a canceled probe")
	}
	if _, err := c.StatBlob(t.Context(), "app", b.Digest); err != nil {
		t.Errorf("B not stored: %v", err)
	}
}

// roundTripFunc is an http.RoundTripper of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
