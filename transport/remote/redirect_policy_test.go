package remote

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestRedirectPolicy(t *testing.T) {
	t.Parallel()
	blob := []byte("blob bytes")
	d := digest.FromBytes(blob)
	// A public registry, registry.example, whose blob GETs redirect to
	// target; object storage answers every host with the blob.
	registry := func(target string) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			w := httptest.NewRecorder()
			http.Redirect(w, r, target, http.StatusTemporaryRedirect)
			resp := w.Result()
			resp.Request = r
			return resp, nil
		})
	}
	var storageHosts []string
	storage := rtFunc(func(r *http.Request) (*http.Response, error) {
		storageHosts = append(storageHosts, r.URL.Host)
		w := httptest.NewRecorder()
		w.Write(blob)
		resp := w.Result()
		resp.Request = r
		return resp, nil
	})
	allowCDN := func(req *http.Request, via []*http.Request) error {
		if req.URL.Hostname() != "cdn.example" {
			return errors.New("not an allowed blob host")
		}
		return nil
	}
	tests := []struct {
		name    string
		target  string
		policy  func(*http.Request, []*http.Request) error
		wantErr string // "" for success
	}{
		{name: "public object storage", target: "https://storage.example/b?sig=1"},
		{name: "loopback", target: "http://127.0.0.1:9000/b", wantErr: "private or loopback"},
		{name: "private", target: "http://10.0.0.7/b", wantErr: "private or loopback"},
		{name: "link-local metadata", target: "http://169.254.169.254/latest/meta-data", wantErr: "private or loopback"},
		{name: "localhost", target: "http://localhost/b", wantErr: "private or loopback"},
		{name: "link-local with a zone", target: "http://[fe80::1%25eth0]/b", wantErr: "private or loopback"},
		{name: "a policy of its own replaces the default", target: "http://10.0.0.7/b", policy: func(*http.Request, []*http.Request) error { return nil }},
		{name: "allow-list lets the CDN in", target: "https://cdn.example/b", policy: allowCDN},
		{name: "allow-list keeps others out", target: "https://storage.example/b", policy: allowCDN, wantErr: "not an allowed blob host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storageHosts = nil
			opts := []Option{WithRoundTripper(registry(tc.target)), WithRedirectRoundTripper(storage), WithRetry(RetryPolicy{MaxAttempts: 1})}
			if tc.policy != nil {
				opts = append(opts, WithRedirectPolicy(tc.policy))
			}
			c, err := New("registry.example", opts...)
			if err != nil {
				t.Fatal(err)
			}
			rc, _, err := c.GetBlob(t.Context(), "app", d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("GetBlob redirected to %s = %v, want an error saying %q", tc.target, err, tc.wantErr)
				}
				if len(storageHosts) != 0 {
					t.Errorf("the refused redirect reached %v", storageHosts)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetBlob = %v", err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != string(blob) {
				t.Errorf("GetBlob = %q", got)
			}
		})
	}
	// A registry on a private address may send the client to another.
	c, err := New("10.0.0.5:5000", WithRoundTripper(registry("http://10.0.0.6/b")), WithRedirectRoundTripper(storage))
	if err != nil {
		t.Fatal(err)
	}
	if rc, _, err := c.GetBlob(t.Context(), "app", d); err != nil {
		t.Errorf("private registry to private storage: %v", err)
	} else {
		rc.Close()
	}
	if _, err := New("r.example", WithRedirectPolicy(nil)); err == nil {
		t.Error("WithRedirectPolicy(nil) accepted")
	}
}

func TestPutIfAbsentRepairsACorruptedPut(t *testing.T) {
	t.Parallel()
	// The first PUT of the tag arrives with a byte changed (in the
	// annotation, so the registry stores it); the registry honours
	// If-None-Match. The repair must replace what was stored by mistake.
	tr, c := newTestReg(t, nil)
	pushManifest(t, c, "x", "", "seed") // makes the repository and its empty config blob
	body := []byte(manifestOf("fresh"))
	var corrupted atomic.Bool
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/new") && !corrupted.Swap(true) {
			b, _ := io.ReadAll(r.Body)
			b = bytes.Replace(b, []byte("fresh"), []byte("frEsh"), 1)
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		return false
	}
	if err := c.putIfAbsent(t.Context(), "x", "new", ocispec.MediaTypeImageManifest, body, digest.FromBytes(body)); err != nil {
		t.Fatalf("putIfAbsent through a corrupting connection = %v", err)
	}
	if got, _ := c.HeadManifest(t.Context(), "x", "new"); got.Digest != digest.FromBytes(body) {
		t.Errorf("new = %s, want %s", got.Digest, digest.FromBytes(body))
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	t.Parallel()
	if _, err := New("r.example", WithRetry(RetryPolicy{MaxBackoff: 50 * time.Millisecond})); err != nil {
		t.Errorf("a policy that sets only a small MaxBackoff: %v", err)
	}
	if _, err := New("r.example", WithRetry(RetryPolicy{Backoff: time.Second, MaxBackoff: 50 * time.Millisecond})); err == nil {
		t.Error("Backoff above MaxBackoff accepted")
	}
}
