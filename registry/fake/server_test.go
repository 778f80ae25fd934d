package fake

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/internal/regtest"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// withClock makes the server issue and check tokens by c.
func withClock(c *fakeClock) ServerOption {
	return func(cfg *serverConfig) { cfg.now = c.Now }
}

func TestServeWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := Serve(t)
	if srv.URL != "http://"+srv.Host || !strings.HasPrefix(srv.Host, "127.0.0.1:") {
		t.Errorf("Serve(t) = URL %q, Host %q, want http://127.0.0.1:port", srv.URL, srv.Host)
	}
	if r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil); r.Status != http.StatusOK {
		t.Errorf("GET /v2/ = %d, want 200", r.Status)
	}
	data := []byte("hello")
	if r := regtest.PushBlob(t, srv.URL, "app", data); r.Status != http.StatusCreated {
		t.Fatalf("push blob = %d %s, want 201", r.Status, r.Body)
	}
	if n := srv.Store.BlobCount(); n != 1 {
		t.Errorf("BlobCount() = %d, want 1", n)
	}
	if r := regtest.Send(t, http.MethodGet, srv.URL+"/token", nil); r.Status != http.StatusNotFound {
		t.Errorf("GET /token without token auth = %d, want 404", r.Status)
	}
}

func TestWithStore(t *testing.T) {
	t.Parallel()
	store := NewStore()
	a, b := Serve(t, WithStore(store)), Serve(t, WithStore(store))
	if a.Store != store || b.Store != store {
		t.Fatalf("Serve(WithStore(s)).Store is not s")
	}
	if r := regtest.PushBlob(t, a.URL, "app", []byte("shared")); r.Status != http.StatusCreated {
		t.Fatalf("push blob = %d %s, want 201", r.Status, r.Body)
	}
	d := digest.FromString("shared")
	if r := regtest.Send(t, http.MethodHead, b.URL+"/v2/app/blobs/"+d.String(), nil); r.Status != http.StatusOK {
		t.Errorf("HEAD blob on the second server = %d, want 200", r.Status)
	}
	if s := Serve(t, WithStore(nil)); s.Store == nil || s.Store == store {
		t.Errorf("Serve(WithStore(nil)).Store = %p, want a new store", s.Store)
	}
}

func TestWithStoreOptions(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithStoreOptions(WithMaxPageSize(1)))
	for _, name := range []string{"a", "b"} {
		if r := regtest.PushBlob(t, srv.URL, name, []byte(name)); r.Status != http.StatusCreated {
			t.Fatalf("push blob to %s = %d %s", name, r.Status, r.Body)
		}
	}
	r := regtest.Send(t, http.MethodGet, srv.URL+"/v2/_catalog", nil)
	if r.Status != http.StatusOK || r.Body != `{"repositories":["a"]}` || r.Header.Get("Link") == "" {
		t.Errorf("GET /v2/_catalog = %d %s (Link %q), want one repository and a Link", r.Status, r.Body, r.Header.Get("Link"))
	}
}

func TestServeCloses(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("serve", func(t *testing.T) { url = Serve(t).URL })
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/v2/", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("GET /v2/ after the test ended = %d, want a connection error", resp.StatusCode)
	}
}

func TestWithLogger(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	srv := Serve(t, WithLogger(logger))
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/nothere/manifests/latest", nil)
	if out := buf.String(); !strings.Contains(out, "path=/v2/nothere/manifests/latest") || !strings.Contains(out, "status=404") {
		t.Errorf("log = %q, want a line for the request", out)
	}
}

func TestNewServerPanics(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "pw"}
	tests := []struct {
		name string
		opts []ServerOption
		want string
	}{
		{name: "two auth modes", opts: []ServerOption{WithBasicAuth(users), WithTokenAuth(users)}, want: "conflict"},
		{name: "store and store options", opts: []ServerOption{WithStore(NewStore()), WithStoreOptions(WithMaxPageSize(2))}, want: "conflict"},
		{name: "grant without auth", opts: []ServerOption{WithGrant("", "app", "pull")}, want: "needs WithBasicAuth"},
		{name: "ttl without auth", opts: []ServerOption{WithTokenTTL(time.Second)}, want: "needs WithTokenAuth"},
		{name: "ttl with basic auth", opts: []ServerOption{WithBasicAuth(users), WithTokenTTL(time.Second)}, want: "needs WithTokenAuth"},
		{name: "grant for unknown user", opts: []ServerOption{WithBasicAuth(users), WithGrant("bob", "app", "pull")}, want: "no such user"},
		{name: "unknown action", opts: []ServerOption{WithTokenAuth(users), WithGrant("alice", "app", "read")}, want: "unknown action"},
		{name: "empty repository", opts: []ServerOption{WithTokenAuth(users), WithGrant("alice", "", "pull")}, want: "empty repository"},
		{name: "empty user name", opts: []ServerOption{WithBasicAuth(map[string]string{"": "pw"})}, want: "invalid user name"},
		{name: "colon in user name", opts: []ServerOption{WithBasicAuth(map[string]string{"a:b": "pw"})}, want: "invalid user name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				p := recover()
				if msg, _ := p.(string); !strings.Contains(msg, tc.want) {
					t.Errorf("NewServer panicked with %v, want a message containing %q", p, tc.want)
				}
			}()
			s := NewServer(tc.opts...)
			s.Close()
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
