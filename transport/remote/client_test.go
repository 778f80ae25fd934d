package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

func TestNew(t *testing.T) {
	t.Parallel()
	rt := http.DefaultTransport
	tests := []struct {
		name     string
		host     string
		opts     []Option
		wantBase string // scheme://host of the API
		wantErr  string // part of the error
	}{
		{name: "ghcr", host: "ghcr.io", wantBase: "https://ghcr.io"},
		{name: "docker hub", host: "docker.io", wantBase: "https://registry-1.docker.io"},
		{name: "legacy docker hub", host: "index.docker.io", wantBase: "https://registry-1.docker.io"},
		{name: "localhost is plain http", host: "localhost:5000", wantBase: "http://localhost:5000"},
		{name: "loopback v4", host: "127.0.0.1:36817", wantBase: "http://127.0.0.1:36817"},
		{name: "loopback v4 in 127/8", host: "127.1.2.3", wantBase: "http://127.1.2.3"},
		{name: "loopback v6", host: "[::1]:5000", wantBase: "http://[::1]:5000"},
		{name: "verify loopback", host: "localhost:5000", opts: []Option{WithTLS(TLSVerify)}, wantBase: "https://localhost:5000"},
		{name: "tls off", host: "r.example:80", opts: []Option{WithTLS(TLSOff)}, wantBase: "http://r.example:80"},
		{name: "skip verify", host: "r.example", opts: []Option{WithTLS(TLSSkipVerify)}, wantBase: "https://r.example"},
		{name: "own round tripper", host: "r.example", opts: []Option{WithRoundTripper(rt), WithUserAgent("x/1")}, wantBase: "https://r.example"},
		{name: "scheme", host: "https://ghcr.io", wantErr: "has a scheme"},
		{name: "path", host: "ghcr.io/myorg", wantErr: "has a path"},
		{name: "query", host: "ghcr.io?x", wantErr: "has a path"},
		{name: "empty", host: "", wantErr: "remote.New"},
		{name: "bad host", host: "bad host", wantErr: "remote.New"},
		{name: "nil round tripper", host: "r.example", opts: []Option{WithRoundTripper(nil)}, wantErr: "WithRoundTripper(nil)"},
		{name: "skip verify with own round tripper", host: "r.example", opts: []Option{WithRoundTripper(rt), WithTLS(TLSSkipVerify)}, wantErr: "conflicts"},
		{name: "bad mode", host: "r.example", opts: []Option{WithTLS(TLSMode(9))}, wantErr: "unknown mode"},
		{name: "empty user agent", host: "r.example", opts: []Option{WithUserAgent("")}, wantErr: "WithUserAgent"},
		{name: "negative manifest size", host: "r.example", opts: []Option{WithMaxManifestSize(-1)}, wantErr: "negative"},
		{name: "negative list size", host: "r.example", opts: []Option{WithMaxListSize(-1)}, wantErr: "negative"},
		{name: "negative list entries", host: "r.example", opts: []Option{WithMaxListEntries(-1)}, wantErr: "negative"},
		{name: "negative chunk", host: "r.example", opts: []Option{WithChunkSize(-1)}, wantErr: "negative"},
		{name: "negative concurrency", host: "r.example", opts: []Option{WithMaxConcurrency(-1)}, wantErr: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.host, tc.opts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New(%q) = %v, want an error with %q", tc.host, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q) = %v", tc.host, err)
			}
			if got := c.base.String(); got != tc.wantBase {
				t.Errorf("New(%q) API = %s, want %s", tc.host, got, tc.wantBase)
			}
			if c.Host() != tc.host {
				t.Errorf("Host() = %q, want %q", c.Host(), tc.host)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	a, _ := New("r.example")
	b, _ := New("r.example")
	ra, rb := a.hc.Transport.(router), b.hc.Transport.(router)
	ta, ok := ra.registry.(*http.Transport)
	if !ok || ta == http.DefaultTransport || ta == rb.registry || ta.MaxIdleConnsPerHost != 32 {
		t.Fatalf("default transport = %T %p, want a fresh *http.Transport with MaxIdleConnsPerHost 32", ra.registry, ra.registry)
	}
	if ra.other != ra.registry {
		t.Errorf("default redirect transport = %p, want the client's own %p", ra.other, ra.registry)
	}
	if a.ua != "regkit" || a.maxManifest != 4<<20 || a.chunkSize != 64<<20 || a.singlePOSTMax != 1<<20 {
		t.Errorf("defaults = %q %d %d %d", a.ua, a.maxManifest, a.chunkSize, a.singlePOSTMax)
	}
	s, _ := New("r.example", WithTLS(TLSSkipVerify))
	if ts := s.hc.Transport.(router).registry.(*http.Transport); ts.TLSClientConfig == nil || !ts.TLSClientConfig.InsecureSkipVerify {
		t.Error("TLSSkipVerify did not turn off verification")
	}
	if ta.TLSClientConfig != nil && ta.TLSClientConfig.InsecureSkipVerify {
		t.Error("TLSSkipVerify of one client changed another's transport")
	}
	for m, want := range map[TLSMode]string{TLSDefault: "TLSDefault", TLSVerify: "TLSVerify", TLSSkipVerify: "TLSSkipVerify", TLSOff: "TLSOff", 7: "TLSMode(7)"} {
		if m.String() != want {
			t.Errorf("TLSMode(%d).String() = %q, want %q", int(m), m.String(), want)
		}
	}
}

func TestTLSModes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"name":"x","tags":["a"]}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	ctx := t.Context()

	skip, _ := New(host, WithTLS(TLSSkipVerify))
	if p, err := skip.ListTags(ctx, "x", transport.PageRequest{}); err != nil || len(p.Items) != 1 {
		t.Errorf("TLSSkipVerify: ListTags = %v, %v", p, err)
	}
	verify, _ := New(host, WithTLS(TLSVerify))
	_, err := verify.ListTags(ctx, "x", transport.PageRequest{})
	var uae x509.UnknownAuthorityError
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &uae) || !errors.As(err, &cve) {
		t.Errorf("TLSVerify against a self-signed server: %v, want a certificate error", err)
	}
	// Loopback defaults to plain HTTP, which a TLS server refuses.
	def, _ := New(host)
	if _, err := def.ListTags(ctx, "x", transport.PageRequest{}); err == nil {
		t.Error("TLSDefault spoke HTTPS to a loopback server, want plain HTTP")
	}
	// The httptest client trusts the server's certificate: TLSVerify works.
	trusted, _ := New(host, WithTLS(TLSVerify), WithRoundTripper(srv.Client().Transport))
	if _, err := trusted.ListTags(ctx, "x", transport.PageRequest{}); err != nil {
		t.Errorf("TLSVerify with a trusting round tripper: %v", err)
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	c, _ := New("r.example")
	tests := []struct {
		repo  string
		parts []string
		want  string
	}{
		{"library/ubuntu", []string{"manifests", "22.04"}, "https://r.example/v2/library/ubuntu/manifests/22.04"},
		{"a/b/c", []string{"blobs", "sha256:ab"}, "https://r.example/v2/a/b/c/blobs/sha256:ab"},
		{"x", []string{"blobs", "uploads", ""}, "https://r.example/v2/x/blobs/uploads/"},
		{"x", []string{"blobs", "uploads", "a b?c"}, "https://r.example/v2/x/blobs/uploads/a%20b%3Fc"},
		{"", []string{"_catalog"}, "https://r.example/v2/_catalog"},
	}
	for _, tc := range tests {
		if got := c.endpoint(tc.repo, tc.parts...).String(); got != tc.want {
			t.Errorf("endpoint(%q, %q) = %s, want %s", tc.repo, tc.parts, got, tc.want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://r/v2/x/blobs/uploads/1":             "https://r/v2/x/blobs/uploads/1?digest=sha256%3Aab",
		"https://r/v2/x/blobs/uploads/1?_state=a%2B": "https://r/v2/x/blobs/uploads/1?_state=a%2B&digest=sha256%3Aab",
	} {
		u, _ := url.Parse(in)
		if got := withQuery(u, "digest", "sha256:ab").String(); got != want {
			t.Errorf("withQuery(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	// Nothing may reach the registry.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv)
	ctx := t.Context()
	good := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"upper-case repo", func() error { _, _, err := c.GetManifest(ctx, "MyApp", "1"); return err }, transport.ErrNameInvalid},
		{"dot-dot repo", func() error { _, err := c.HeadManifest(ctx, "a/../b", "1"); return err }, transport.ErrNameInvalid},
		{"bad tag", func() error { _, err := c.HeadManifest(ctx, "a", "bad tag"); return err }, transport.ErrTagInvalid},
		{"bad digest", func() error { _, _, err := c.GetManifest(ctx, "a", "sha256:abc"); return err }, transport.ErrDigestInvalid},
		{"put wrong digest", func() error {
			_, err := c.PutManifest(ctx, "a", good, ocispec.MediaTypeImageManifest, []byte("{}"), nil)
			return err
		}, transport.ErrDigestInvalid},
		{"put no media type", func() error { _, err := c.PutManifest(ctx, "a", "t", "", []byte("{}"), nil); return err }, transport.ErrManifestInvalid},
		{"put bad if-match", func() error {
			_, err := c.PutManifest(ctx, "a", "t", ocispec.MediaTypeImageManifest, []byte("{}"), &transport.PutManifestOptions{IfMatch: "nope"})
			return err
		}, transport.ErrDigestInvalid},
		{"delete bad ref", func() error { return c.DeleteManifest(ctx, "a", "sha256:x") }, transport.ErrDigestInvalid},
		{"delete tag digest", func() error { _, err := c.DeleteTag(ctx, "a", good); return err }, transport.ErrTagInvalid},
		{"delete tag bad", func() error { _, err := c.DeleteTag(ctx, "a", "-x"); return err }, transport.ErrTagInvalid},
		{"delete tag bad repo", func() error { _, err := c.DeleteTag(ctx, "A", "x"); return err }, transport.ErrNameInvalid},
		{"stat blob", func() error { _, err := c.StatBlob(ctx, "a", "sha256:x"); return err }, transport.ErrDigestInvalid},
		{"get blob", func() error { _, _, err := c.GetBlob(ctx, "a", "x"); return err }, transport.ErrDigestInvalid},
		{"put blob", func() error { return c.PutBlob(ctx, "a", ocispec.Descriptor{Digest: "x"}, nil) }, transport.ErrDigestInvalid},
		{"mount", func() error { return c.MountBlob(ctx, "a", "B", digest.Digest(good)) }, transport.ErrNameInvalid},
		{"mount digest", func() error { return c.MountBlob(ctx, "a", "b", "x") }, transport.ErrDigestInvalid},
		{"delete blob", func() error { return c.DeleteBlob(ctx, "a", "x") }, transport.ErrDigestInvalid},
		{"referrers", func() error { _, err := c.ListReferrers(ctx, "a", "x", "", transport.PageRequest{}); return err }, transport.ErrDigestInvalid},
		{"tags", func() error { _, err := c.ListTags(ctx, "", transport.PageRequest{}); return err }, transport.ErrNameInvalid},
		{"start upload", func() error { _, err := c.StartUpload(ctx, "A"); return err }, transport.ErrNameInvalid},
		{"resume upload", func() error { _, err := c.ResumeUpload(ctx, "a", ""); return err }, transport.ErrBlobUploadUnknown},
		{"resume elsewhere", func() error { _, err := c.ResumeUpload(ctx, "a", "https://evil.example/x"); return err }, transport.ErrBlobUploadInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
	// Invalid page cursors are refused too.
	for _, next := range []string{"/v2/x/tags/list", "https://evil.example/v2/x/tags/list", "::"} {
		if _, err := c.ListTags(ctx, "x", transport.PageRequest{Next: next}); err == nil || !strings.Contains(err.Error(), "cursor") {
			t.Errorf("ListTags(Next: %q) = %v, want a cursor error", next, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := c.GetManifest(ctx, "x", "1"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetManifest(canceled) = %v, want context.Canceled", err)
	}
	if n := len(tr.requests()); n != 0 {
		t.Errorf("a canceled call sent %d requests", n)
	}
}

func TestUserAgentAndRedirectCap(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); ua != "mytool/1.2" {
			t.Errorf("User-Agent = %q, want mytool/1.2", ua)
		}
		http.Redirect(w, r, srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv, WithUserAgent("mytool/1.2"))
	_, _, err := c.GetBlob(t.Context(), "x", digest.Digest("sha256:"+strings.Repeat("b", 64)))
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("GetBlob(redirect loop) = %v, want stopped after 10 redirects", err)
	}
}

// foreignHost is a server that must never be asked anything: it counts
// requests and Authorization headers it gets.
type foreignHost struct {
	*httptest.Server
	hits, auths atomic.Int32
}

func newForeignHost(t *testing.T) *foreignHost {
	t.Helper()
	f := &foreignHost{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			f.auths.Add(1)
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *foreignHost) host() string { return strings.TrimPrefix(f.URL, "http://") }

// signingRT adds credentials to every request, as a careless auth round
// tripper would.
type signingRT struct{}

func (signingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Basic c2VjcmV0")
	return http.DefaultTransport.RoundTrip(r2)
}

func TestPutBlobRefusesForeignUploadLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// post is the Location of the POST's 202, patch that of a PATCH's.
		post, patch func(reg, evil string) string
		chunked     bool
		wantHost    string // "evil" or "reg": the host the error names
	}{
		{name: "another host", post: func(_, evil string) string { return "http://" + evil + "/v2/x/blobs/uploads/1?sig=secret" }, wantHost: "evil"},
		{name: "scheme-relative", post: func(_, evil string) string { return "//" + evil + "/v2/x/blobs/uploads/1?sig=secret" }, wantHost: "evil"},
		{name: "another name of the host", post: func(reg, _ string) string {
			return "http://localhost:" + reg[strings.LastIndex(reg, ":")+1:] + "/v2/x/blobs/uploads/1?sig=secret"
		}, wantHost: "localhost"},
		{name: "user information", post: func(reg, _ string) string { return "http://user:pw@" + reg + "/v2/x/blobs/uploads/1?sig=secret" }, wantHost: "reg"},
		{name: "another endpoint", post: func(string, string) string { return "/v2/x/manifests/latest?sig=secret" }, wantHost: "reg"},
		{name: "another repository", post: func(string, string) string { return "/v2/y/blobs/uploads/1?sig=secret" }, wantHost: "reg"},
		{name: "dot segments", post: func(string, string) string { return "/v2/x/blobs/uploads/1/..?sig=secret" }, wantHost: "reg"},
		{name: "encoded dot segments", post: func(string, string) string { return "/v2/x/blobs/uploads/%2e%2e/%2e%2e/y/manifests/latest?sig=secret" }, wantHost: "reg"},
		{name: "uploads root", post: func(string, string) string { return "/v2/x/blobs/uploads/?sig=secret" }, wantHost: "reg"},
		{name: "PATCH answer", chunked: true, post: func(string, string) string { return "/v2/x/blobs/uploads/1" },
			patch: func(_, evil string) string { return "http://" + evil + "/v2/x/blobs/uploads/1?sig=secret" }, wantHost: "evil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evil := newForeignHost(t)
			mux, c := newMux(t, WithSinglePOSTMax(-1), WithChunkSize(4), WithRoundTripper(signingRT{}))
			reg := c.base.Host
			var sessionReqs atomic.Int32
			mux.HandleFunc("POST /v2/x/blobs/uploads/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", tc.post(reg, evil.host()))
				w.WriteHeader(http.StatusAccepted)
			})
			mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost || r.Method == http.MethodDelete {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				if r.Method == http.MethodHead && !strings.Contains(r.URL.Path, "/uploads/") {
					w.WriteHeader(http.StatusNotFound) // the blob, asked about after the 202
					return
				}
				sessionReqs.Add(1)
				switch {
				case r.Method == http.MethodPatch:
					io.Copy(io.Discard, r.Body)
					w.Header().Set("Location", tc.patch(reg, evil.host()))
					w.WriteHeader(http.StatusAccepted)
				default:
					t.Errorf("%s %s reached the registry", r.Method, r.URL)
					w.WriteHeader(http.StatusCreated)
				}
			})
			blob := []byte("b")
			if tc.chunked {
				blob = []byte("more than a chunk")
			}
			err := c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob))
			if !errors.Is(err, transport.ErrBlobUploadInvalid) {
				t.Fatalf("PutBlob = %v, want ErrBlobUploadInvalid", err)
			}
			want := map[string]string{"evil": evil.host(), "reg": reg, "localhost": "localhost:"}[tc.wantHost]
			if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pw") {
				t.Errorf("PutBlob = %v, want an error naming %s, without the query or user information", err, want)
			}
			if evil.hits.Load() != 0 {
				t.Errorf("the foreign host got %d requests (%d with credentials)", evil.hits.Load(), evil.auths.Load())
			}
			if tc.patch == nil && sessionReqs.Load() != 0 {
				t.Errorf("%d requests to the refused session", sessionReqs.Load())
			}
		})
	}
}

func TestUploadRefusesForeignRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, c *Client) error
	}{
		{name: "single POST", run: func(t *testing.T, c *Client) error {
			blob := []byte("b")
			return c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob))
		}},
		{name: "PATCH", run: func(t *testing.T, c *Client) error {
			w, err := c.StartUpload(t.Context(), "x")
			if err != nil {
				return err
			}
			_, err = w.Write([]byte("b"))
			return err
		}},
		{name: "PUT", run: func(t *testing.T, c *Client) error {
			w, err := c.StartUpload(t.Context(), "x")
			if err != nil {
				return err
			}
			return w.Commit(t.Context(), blobDesc(nil))
		}},
		{name: "status", run: func(t *testing.T, c *Client) error {
			_, err := c.ResumeUpload(t.Context(), "x", "1")
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evil := newForeignHost(t)
			mux, c := newMux(t, WithRoundTripper(signingRT{}))
			mux.HandleFunc("POST /v2/x/blobs/uploads/{$}", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Has("digest") {
					http.Redirect(w, r, evil.URL+"/v2/x/blobs/uploads/?digest=x&sig=secret", http.StatusTemporaryRedirect)
					return
				}
				if r.URL.Query().Has("mount") {
					w.WriteHeader(http.StatusNotFound)
					return
				}
				w.Header().Set("Location", "/v2/x/blobs/uploads/1")
				w.WriteHeader(http.StatusAccepted)
			})
			mux.HandleFunc("DELETE /v2/x/blobs/uploads/1", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			})
			mux.HandleFunc("/v2/x/blobs/uploads/1", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, evil.URL+"/v2/x/blobs/uploads/1?sig=secret", http.StatusTemporaryRedirect)
			})
			err := tc.run(t, c)
			if !errors.Is(err, transport.ErrBlobUploadInvalid) || !strings.Contains(err.Error(), evil.host()) || strings.Contains(err.Error(), "secret") {
				t.Errorf("error = %v, want ErrBlobUploadInvalid naming %s, without the query", err, evil.host())
			}
			if evil.hits.Load() != 0 {
				t.Errorf("the foreign host got %d requests (%d with credentials)", evil.hits.Load(), evil.auths.Load())
			}
		})
	}
}

func TestPutBlobRefusesHTTPSDowngrade(t *testing.T) {
	t.Parallel()
	var plain atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			plain.Add(1)
		}
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "http://"+srv.Listener.Addr().String()+"/v2/x/blobs/uploads/1")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.Listener.Addr().String(), WithTLS(TLSSkipVerify), WithSinglePOSTMax(-1))
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("b")
	if err := c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob)); !errors.Is(err, transport.ErrBlobUploadInvalid) {
		t.Errorf("PutBlob = %v, want ErrBlobUploadInvalid", err)
	}
	if plain.Load() != 0 {
		t.Errorf("%d requests over plain HTTP", plain.Load())
	}
}

func TestWithMiddleware(t *testing.T) {
	t.Parallel()
	blob := []byte("on the cdn")
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(blob) }))
	t.Cleanup(cdn.Close)
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cdn.URL+"/b", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	var mu sync.Mutex
	var seen []string
	mw := func(name string) Middleware {
		return func(h string, next http.RoundTripper) http.RoundTripper {
			if h != host {
				t.Errorf("middleware %s got host %q, want %q", name, h, host)
			}
			return rtFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				seen = append(seen, name+" "+r.URL.Host)
				mu.Unlock()
				return next.RoundTrip(r)
			})
		}
	}
	c := newTestClient(t, reg, WithMiddleware(mw("outer")), WithMiddleware(mw("inner")))
	rc, _, err := c.GetBlob(t.Context(), "x", digest.FromBytes(blob))
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	// The registry request goes through both, outer first; the redirect to
	// the CDN through neither.
	if want := []string{"outer " + host, "inner " + host}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("middleware saw %q, want %q", seen, want)
	}
	if _, err := New(host, WithMiddleware(nil)); err == nil {
		t.Error("WithMiddleware(nil) accepted")
	}
	nilRT := func(string, http.RoundTripper) http.RoundTripper { return nil }
	if _, err := New(host, WithMiddleware(nilRT)); err == nil {
		t.Error("a middleware returning nil accepted")
	}
}

func TestClientAcquire(t *testing.T) {
	t.Parallel()
	c, err := New("r.example", WithMaxConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	r1, err1 := c.Acquire(t.Context())
	r2, err2 := c.Acquire(t.Context())
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("third Acquire of 2 slots = %v, want DeadlineExceeded", err)
	}
	r1()
	r1() // a second release frees nothing more
	r3, err := c.Acquire(t.Context())
	if err != nil {
		t.Fatalf("Acquire after a release = %v", err)
	}
	if _, err := c.Acquire(ctx); err == nil {
		t.Error("a double release freed a second slot")
	}
	r2()
	r3()
	if d, _ := New("r.example"); cap(d.slots) != 8 {
		t.Errorf("default slots = %d, want 8", cap(d.slots))
	}
	if d, err := New("r.example", WithMaxConcurrency(0)); err != nil || cap(d.slots) != 8 {
		t.Errorf("WithMaxConcurrency(0) = %v, want the default 8 slots", err)
	}
}

// TestOptionsZeroIsDefault checks the module's convention on the client's
// settings: zero is the default; negative turns single-POST uploads off.
func TestOptionsZeroIsDefault(t *testing.T) {
	t.Parallel()
	c, err := New("r.example", WithMaxManifestSize(0), WithMaxListSize(0), WithMaxListEntries(0), WithChunkSize(0), WithSinglePOSTMax(0))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := New("r.example")
	if c.maxManifest != d.maxManifest || c.maxList != d.maxList || c.maxListEntries != d.maxListEntries ||
		c.chunkSize != d.chunkSize || c.chunkKnown != d.chunkKnown || c.singlePOSTMax != 1<<20 {
		t.Errorf("zero options: %d %d %d %d %v %d, want the defaults %d %d %d %d %v 1 MiB", c.maxManifest, c.maxList, c.maxListEntries,
			c.chunkSize, c.chunkKnown, c.singlePOSTMax, d.maxManifest, d.maxList, d.maxListEntries, d.chunkSize, d.chunkKnown)
	}
	if off, err := New("r.example", WithSinglePOSTMax(-1)); err != nil || off.singlePOSTMax != 0 {
		t.Errorf("WithSinglePOSTMax(-1) = %v, single POST up to %d bytes; want it off", err, off.singlePOSTMax)
	}
}

// idleCloser is a round tripper that counts CloseIdleConnections calls.
type idleCloser struct {
	http.RoundTripper
	closed int
}

func (c *idleCloser) CloseIdleConnections() { c.closed++ }

func TestCloseIdleConnectionsReachesBothRoundTrippers(t *testing.T) {
	t.Parallel()
	reg, redirect := &idleCloser{}, &idleCloser{}
	c, err := New("registry.example", WithRoundTripper(reg), WithRedirectRoundTripper(redirect),
		WithMiddleware(func(_ string, next http.RoundTripper) http.RoundTripper { return rtFunc(next.RoundTrip) }))
	if err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	if redirect.closed != 1 {
		t.Errorf("redirect round tripper closed %d times, want 1", redirect.closed)
	}
	if reg.closed != 0 {
		t.Errorf("a middleware without CloseIdleConnections passed it on %d times", reg.closed)
	}

	c, err = New("registry.example", WithRoundTripper(reg))
	if err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	if reg.closed != 1 {
		t.Errorf("registry round tripper closed %d times, want 1", reg.closed)
	}
}

// TestOrigin names the registry API a client reaches: clients of one
// endpoint share an origin, whatever name they were made with.
func TestOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		opts []Option
		want string
	}{
		{"docker.io", nil, "https://registry-1.docker.io"},
		{"index.docker.io", nil, "https://registry-1.docker.io"},
		{"GHCR.io", nil, "https://ghcr.io"},
		{"localhost:5000", nil, "http://localhost:5000"},
		{"r.example:5000", []Option{WithTLS(TLSOff)}, "http://r.example:5000"},
		{"r.example:5000", nil, "https://r.example:5000"},
		{"ghcr.io:443", nil, "https://ghcr.io"}, // the default port is the same origin
		{"r.example:80", []Option{WithTLS(TLSOff)}, "http://r.example"},
	}
	for _, tc := range tests {
		c, err := New(tc.host, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Origin(); got != tc.want {
			t.Errorf("New(%q).Origin() = %q, want %q", tc.host, got, tc.want)
		}
	}
}
