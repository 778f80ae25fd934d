package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
	"github.com/regkit/regkit/transport/server"
)

// proxyServe serves upstream (wrapped by mw, if set) over HTTP, and a
// Handler over a Client of it: a proxy. It returns the proxy, the
// upstream server and the Client.
func proxyServe(t *testing.T, upstream transport.Transport, mw func(http.Handler) http.Handler) (proxy, up *httptest.Server, c *remote.Client) {
	t.Helper()
	var h http.Handler = server.NewHandler(upstream)
	if mw != nil {
		h = mw(h)
	}
	up = httptest.NewServer(h)
	t.Cleanup(up.Close)
	c, err := remote.New(strings.TrimPrefix(up.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	proxy, _ = serve(t, c, false)
	return proxy, up, c
}

// proxyID is the proxy's session id segment for an upstream session id.
func proxyID(id string) string { return "~" + base64.RawURLEncoding.EncodeToString([]byte(id)) }

func TestProxyRefusesForeignSessionIDs(t *testing.T) {
	t.Parallel()
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(evil.Close)
	evilHost := strings.TrimPrefix(evil.URL, "http://")

	store := fake.NewStore()
	proxy, up, c := proxyServe(t, store, nil)
	ctx := t.Context()
	empty := ocispec.DescriptorEmptyJSON
	if err := c.PutBlob(ctx, "victim", empty, bytes.NewReader(empty.Data)); err != nil {
		t.Fatal(err)
	}
	empty.Data = nil
	manifest, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: empty, Layers: []ocispec.Descriptor{}})
	victim, err := c.PutManifest(ctx, "victim", "v1", "", manifest, nil)
	if err != nil {
		t.Fatal(err)
	}
	session, err := c.StartUpload(ctx, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := session.Write([]byte("victim's bytes")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, id string
	}{
		{name: "scheme-relative", id: "//" + evilHost + "/anything"},
		{name: "another host", id: evil.URL + "/v2/attacker/blobs/uploads/1"},
		{name: "a manifest upstream", id: up.URL + "/v2/victim/manifests/" + victim.Digest.String()},
		{name: "a path to a manifest upstream", id: "/v2/victim/manifests/" + victim.Digest.String()},
		{name: "a session of another repository", id: session.ID()},
		{name: "dot segments", id: up.URL + "/v2/attacker/blobs/uploads/%2e%2e/%2e%2e/%2e%2e/victim/manifests/v1"},
	}
	for _, tc := range tests {
		for _, method := range []string{"GET", "PATCH", "PUT", "DELETE"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				path := "/v2/attacker/blobs/uploads/" + proxyID(tc.id)
				if method == "PUT" {
					path += "?digest=" + digest.FromString("x").String()
				}
				resp := doRequest(t, proxy, method, path, nil, "x")
				if resp.StatusCode != http.StatusBadRequest || errorCode(t, resp.body) != transport.CodeBlobUploadInvalid {
					t.Errorf("%s of session %s through the proxy = %d %s, want 400 BLOB_UPLOAD_INVALID", method, tc.id, resp.StatusCode, resp.body)
				}
			})
		}
	}
	if evilHits.Load() != 0 {
		t.Errorf("the proxy sent %d requests to a foreign host", evilHits.Load())
	}
	if got, err := store.HeadManifest(ctx, "victim", "v1"); err != nil || got.Digest != victim.Digest {
		t.Errorf("victim manifest after the attempts: %v, %v", got.Digest, err)
	}
	if _, err := store.ResumeUpload(ctx, "victim", strings.TrimPrefix(session.ID()[strings.LastIndex(session.ID(), "/"):], "/")); err != nil {
		t.Errorf("victim's upload session after the attempts: %v", err)
	}
}

func TestProxyForwardsEveryChunk(t *testing.T) {
	t.Parallel()
	// The upstream asks for chunks of at least 1 KiB. The proxy's Client
	// would hold smaller ones back, but its writer dies with the request:
	// the proxy flushes each chunk its client sends, whatever its size.
	chunkMin := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.Header().Set("OCI-Chunk-Min-Length", "1024")
			}
			h.ServeHTTP(w, r)
		})
	}
	store := fake.NewStore()
	proxy, up, _ := proxyServe(t, store, chunkMin)

	t.Run("raw requests", func(t *testing.T) {
		resp := doRequest(t, proxy, "POST", "/v2/app/blobs/uploads/", nil, "")
		wantStatus(t, resp, 202)
		resp = doRequest(t, proxy, "PATCH", resp.Header.Get("Location"), map[string]string{"Content-Range": "0-5"}, "hello ")
		wantStatus(t, resp, 202)
		if got := resp.Header.Get("Range"); got != "0-5" {
			t.Errorf("PATCH of 6 bytes: Range %q, want 0-5", got)
		}
		resp = doRequest(t, proxy, "PATCH", resp.Header.Get("Location"), map[string]string{"Content-Range": "6-10"}, "world")
		wantStatus(t, resp, 202)
		if got := resp.Header.Get("Range"); got != "0-10" {
			t.Errorf("PATCH of 5 more bytes: Range %q, want 0-10", got)
		}
		resp = doRequest(t, proxy, "PUT", resp.Header.Get("Location")+"?digest="+digest.FromString("hello world").String(), nil, "")
		wantStatus(t, resp, 201)
		checkBlob(t, up, "app", "hello world")
	})
	t.Run("regkit client in chunks of 6", func(t *testing.T) {
		c, err := remote.New(strings.TrimPrefix(proxy.URL, "http://"), remote.WithChunkSize(6))
		if err != nil {
			t.Fatal(err)
		}
		blob := []byte("hello chunked world")
		desc := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: int64(len(blob))}
		if err := c.PutBlob(t.Context(), "app", desc, io.MultiReader(bytes.NewReader(blob))); err != nil {
			t.Fatalf("PutBlob in chunks of 6 through the proxy: %v", err)
		}
		checkBlob(t, up, "app", string(blob))
	})
}

// TestProxyPassesRetryAfterOn checks that a 429 of the upstream registry
// reaches the proxy's own client with its Retry-After, when it asks for a
// longer wait than the proxy's client would make.
func TestProxyPassesRetryAfterOn(t *testing.T) {
	t.Parallel()
	limited := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/manifests/") {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	proxy, _, _ := proxyServe(t, fake.NewStore(), limited)
	resp, err := http.Get(proxy.URL + "/v2/app/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 110 || secs > 120 {
		t.Errorf("Retry-After %q, want about 120 seconds", resp.Header.Get("Retry-After"))
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "TOOMANYREQUESTS") {
		t.Errorf("body %s, want the TOOMANYREQUESTS code", body)
	}
}
