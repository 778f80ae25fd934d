package remote_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
	"github.com/regkit/regkit/transport/server"
)

// countingRT counts requests by method and endpoint kind.
type countingRT struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := "other"
	for _, k := range []string{"/blobs/uploads/", "/manifests/", "/blobs/", "/referrers/", "/tags/list", "/_catalog"} {
		if strings.Contains(r.URL.Path, k) {
			kind = strings.Trim(k, "/")
			break
		}
	}
	c.mu.Lock()
	c.n[r.Method+" "+kind]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *countingRT) take() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, total := c.n, 0
	for _, v := range n {
		total += v
	}
	c.n = map[string]int{}
	return n, total
}

func (c *countingRT) String() string {
	n, total := c.take()
	var keys []string
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, n[k]))
	}
	return fmt.Sprintf("%d requests (%s)", total, strings.Join(parts, ", "))
}

// newHandler serves a Transport over HTTP.
var newHandler = func(t transport.Transport) http.Handler { return server.NewHandler(t) }

// serveFake serves a new in-memory store over HTTP through mw, and returns
// a client of it over a counting round tripper.
func serveFake(t *testing.T, mw func(http.Handler) http.Handler) (*remote.Client, *countingRT) {
	t.Helper()
	var h http.Handler = newHandler(fake.NewStore())
	if mw != nil {
		h = mw(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rt := &countingRT{base: http.DefaultTransport.(*http.Transport).Clone(), n: map[string]int{}}
	c, err := remote.New(strings.TrimPrefix(srv.URL, "http://"), remote.WithRoundTripper(rt))
	if err != nil {
		t.Fatal(err)
	}
	return c, rt
}

// The middlewares make the fake look like registries that lack a feature.
func noReferrersAPI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/referrers/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(stripHeader{w, "OCI-Subject"}, r)
	})
}

func noIfMatch(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("If-Match")
		r.Header.Del("If-None-Match")
		h.ServeHTTP(w, r)
	})
}

func noTagDelete(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(r.URL.Path, ":") {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// noTagParams drops the tag query parameters of manifest puts, as
// registries without the distribution spec's next version do.
func noTagParams(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			q := r.URL.Query()
			q.Del("tag")
			r.URL.RawQuery = q.Encode()
		}
		h.ServeHTTP(w, r)
	})
}

// stripHeader drops one response header.
type stripHeader struct {
	http.ResponseWriter
	name string
}

func (s stripHeader) WriteHeader(code int) {
	s.ResponseWriter.Header().Del(s.name)
	s.ResponseWriter.WriteHeader(code)
}

func (s stripHeader) Write(p []byte) (int, error) {
	s.ResponseWriter.Header().Del(s.name)
	return s.ResponseWriter.Write(p)
}

func TestClientBehaviour(t *testing.T) {
	tests := []struct {
		name string
		mw   func(http.Handler) http.Handler
		caps registrytest.Capabilities
	}{
		{"full", nil, registrytest.Capabilities{}},
		{"no referrers API", noReferrersAPI, registrytest.Capabilities{}},
		{"no If-Match", noIfMatch, registrytest.Capabilities{}},
		{"neither", func(h http.Handler) http.Handler { return noReferrersAPI(noIfMatch(h)) }, registrytest.Capabilities{}},
		{"no tag parameters", noTagParams, registrytest.Capabilities{NoManifestTagParams: true}},
		// Without tag DELETE the suite's Delete test fails whatever the
		// transport: its counting wrapper hides TagDeleter. See
		// TestClientTagDeleteFallback.
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := serveFake(t, tc.mw)
			registrytest.RunWith(t, func(t *testing.T) transport.Transport { return c }, tc.caps)
		})
	}
}

// newLayeredImage builds an image with n small layers, and a config with
// nonce.
func newLayeredImage(t *testing.T, n int, nonce string) *image.Image {
	t.Helper()
	contents := make([]string, n)
	for i := range contents {
		contents[i] = fmt.Sprintf("layer %d of %s", i, t.Name())
	}
	return imageOf(t, nonce, contents...)
}

func TestPushRequestCounts(t *testing.T) {
	c, rt := serveFake(t, nil)
	repo := registry.FromTransport(c).Repository("app")
	img := newLayeredImage(t, 20, "1")
	if _, err := repo.Push(t.Context(), img, "1.0"); err != nil {
		t.Fatalf("Push = %v", err)
	}
	first, total := rt.take()
	t.Logf("push of a new 20-layer image: %d requests %v", total, first)
	// HEAD (404) of the tag; per blob one mount POST and one PUT; the
	// manifest PUT; and, once per client, the HEAD (404) of the first blob
	// whose mount POST got a 202: a registry that ignores mounts answers
	// 202 for a blob it has too, and only a HEAD tells the two apart.
	if want := 1 + 2*21 + 1 + 1; total != want {
		t.Errorf("push of a new 20-layer image: %d requests %v, want %d", total, first, want)
	}
	if _, err := repo.Push(t.Context(), img, "1.0"); err != nil {
		t.Fatalf("re-Push = %v", err)
	}
	again, total := rt.take()
	t.Logf("re-push: %d requests %v", total, again)
	if total != 1 {
		t.Errorf("re-push: %d requests %v, want 1 (HEAD)", total, again)
	}
	// A second tag on a new image sharing all layers: only the config and
	// manifest are new.
	img2 := newLayeredImage(t, 20, "2")
	if _, err := repo.Push(t.Context(), img2, "2.0"); err != nil {
		t.Fatal(err)
	}
	shared, total := rt.take()
	t.Logf("push of an image whose 20 layers are there: %d requests %v", total, shared)
	// Another new 20-layer image: the client knows that the registry's
	// 202s mean "missing", so no HEAD.
	var contents []string
	for i := range 20 {
		contents = append(contents, fmt.Sprintf("layer %d of image 3", i))
	}
	if _, err := repo.Push(t.Context(), imageOf(t, "3", contents...), "3.0"); err != nil {
		t.Fatal(err)
	}
	second, total := rt.take()
	t.Logf("push of a second new 20-layer image: %d requests %v", total, second)
	if want := 1 + 2*21 + 1; total != want {
		t.Errorf("push of a second new 20-layer image: %d requests %v, want %d", total, second, want)
	}
}

func TestClientTagDeleteFallback(t *testing.T) {
	c, rt := serveFake(t, noTagDelete)
	ctx := t.Context()
	repo := registry.FromTransport(c).Repository("app")
	v1, err := repo.Push(ctx, newLayeredImage(t, 1, "1"), "1.0", "stable", "old")
	if err != nil {
		t.Fatal(err)
	}
	rt.take()
	how, err := repo.Tag("stable").Delete(ctx)
	if err != nil || how != transport.TagDeletedByPlaceholder {
		t.Fatalf("Delete(stable) = %v, %v; want %v", how, err, transport.TagDeletedByPlaceholder)
	}
	t.Logf("tag delete by placeholder: %s", rt)
	if _, err := repo.Tag("stable").Resolve(ctx); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("deleted tag resolves: %v", err)
	}
	for _, tag := range []string{"1.0", "old"} {
		if got, err := repo.Tag(tag).Resolve(ctx); err != nil || got.Digest != v1.Digest {
			t.Errorf("Resolve(%s) = %v, %v; want %s", tag, got.Digest, err, v1.Digest)
		}
	}
	if how, err := repo.Tag("old").Delete(ctx); err != nil || how != transport.TagDeletedByPlaceholder {
		t.Fatalf("Delete(old) = %v, %v", how, err)
	}
	n, _ := rt.take()
	if n["DELETE manifests"] != 1 {
		t.Errorf("second delete: %v, want one DELETE (of the placeholder; tag DELETE is known not to work)", n)
	}
}
