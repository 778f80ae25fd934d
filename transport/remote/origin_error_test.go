package remote

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// TestRefusedRedirectsAreOriginErrors checks that every redirect the client
// refuses off the registry's origin is a *transport.OriginError saying what
// was refused and where it would have gone, with the code an upload's
// refusal has always had.
func TestRefusedRedirectsAreOriginErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		run      func(t *testing.T, c *Client) error
		wantWhat string
		wantCode transport.Code // "" for none
	}{
		{name: "upload", run: func(t *testing.T, c *Client) error {
			blob := []byte("b")
			return c.PutBlob(t.Context(), "x", blobDesc(blob), bytes.NewReader(blob))
		}, wantWhat: "an upload", wantCode: transport.CodeBlobUploadInvalid},
		{name: "manifest PUT", run: func(t *testing.T, c *Client) error {
			_, err := c.PutManifest(t.Context(), "x", "v1", "application/vnd.oci.image.manifest.v1+json", []byte(testManifestBody), nil)
			return err
		}, wantWhat: "a PUT request"},
		{name: "manifest DELETE", run: func(t *testing.T, c *Client) error {
			return c.DeleteManifest(t.Context(), "x", digest.FromString("m").String())
		}, wantWhat: "a DELETE request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evil := newForeignHost(t)
			mux, c := newMux(t, WithSinglePOSTMax(1<<20), WithRetry(RetryPolicy{MaxAttempts: 1}))
			mux.HandleFunc("/v2/x/", func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodHead || r.Method == http.MethodGet {
					w.WriteHeader(http.StatusNotFound)
					return
				}
				http.Redirect(w, r, evil.URL+r.URL.Path+"?sig=secret", http.StatusTemporaryRedirect)
			})
			err := tc.run(t, c)
			var oe *transport.OriginError
			if !errors.As(err, &oe) {
				t.Fatalf("error = %v, want a *transport.OriginError", err)
			}
			if oe.What != tc.wantWhat || oe.For != "http://"+c.base.Host || !strings.Contains(oe.To, evil.Listener.Addr().String()) || oe.Reason != "another port" {
				t.Errorf("OriginError = %+v, want %s for http://%s to %s, another port", oe, tc.wantWhat, c.base.Host, evil.URL)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %v shows the query", err)
			}
			if tc.wantCode != "" && !errors.Is(err, tc.wantCode) {
				t.Errorf("error = %v, want it to match %s", err, string(tc.wantCode))
			}
			if evil.hits.Load() != 0 {
				t.Errorf("the foreign host got %d requests", evil.hits.Load())
			}
		})
	}
}

// TestDefaultRedirectPolicyOriginError checks that the default policy's
// refusal is an OriginError that also matches transport.ErrDenied, and is
// not wrapped in a second message naming the same URLs.
func TestDefaultRedirectPolicyOriginError(t *testing.T) {
	t.Parallel()
	from, _ := http.NewRequest(http.MethodGet, "https://registry.example/v2/app/blobs/sha256:x", nil)
	to, _ := http.NewRequest(http.MethodGet, "http://10.0.0.7/b?sig=secret", nil)
	err := DefaultRedirectPolicy(to, []*http.Request{from})
	var oe *transport.OriginError
	if !errors.As(err, &oe) || !errors.Is(err, transport.ErrDenied) {
		t.Fatalf("DefaultRedirectPolicy = %v, want an OriginError matching ErrDenied", err)
	}
	want := "denied: refusing to send a GET request for https://registry.example:443 to http://10.0.0.7/b: a registry on a public address may not send the client to a private or loopback address"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
