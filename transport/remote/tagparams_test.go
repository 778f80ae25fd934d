package remote_test

import (
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// TestClientManifestTagParams puts a manifest by its sha512 digest with
// tags: one PUT with tag query parameters on a registry that has them, the
// tags naming the sha512 digest; on one without them (no OCI-Tag answer),
// one PUT by tag more for each tag, which names the sha256 digest there.
func TestClientManifestTagParams(t *testing.T) {
	t.Parallel()
	const mt = "application/vnd.oci.image.index.v1+json"
	body := []byte(`{"schemaVersion":2,"mediaType":"` + mt + `","manifests":[]}`)
	d512 := digest.SHA512.FromBytes(body)
	tests := []struct {
		name     string
		mw       func(http.Handler) http.Handler
		wantPuts int
		wantTag  digest.Digest
	}{
		{"registry with tag parameters", nil, 1, d512},
		{"registry without them", noTagParams, 3, digest.SHA256.FromBytes(body)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, rt := serveFake(t, tc.mw)
			opts := &transport.PutManifestOptions{Tags: []string{"1.0", "latest", "1.0"}}
			desc, err := c.PutManifest(t.Context(), "app", d512.String(), mt, body, opts)
			if err != nil || desc.Digest != d512 {
				t.Fatalf("PutManifest = %s, %v, want %s", desc.Digest, err, d512)
			}
			if n, _ := rt.take(); n["PUT manifests"] != tc.wantPuts {
				t.Errorf("manifest PUTs = %d, want %d", n["PUT manifests"], tc.wantPuts)
			}
			for _, tag := range []string{"1.0", "latest"} {
				if got, err := c.HeadManifest(t.Context(), "app", tag); err != nil || got.Digest != tc.wantTag {
					t.Errorf("HeadManifest(%s) = %s, %v, want %s", tag, got.Digest, err, tc.wantTag)
				}
			}
		})
	}
}
