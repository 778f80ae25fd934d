package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry/fake"
)

// TestSkopeoRoundTrip has a real client, skopeo, copy an image from an OCI
// layout into the fake registry served over HTTP, inspect it, list its tags
// and copy it back out; every digest is checked on the way.
func TestSkopeoRoundTrip(t *testing.T) {
	regtest.Tool(t, "skopeo")
	srv := fake.Serve(t)
	img := appImage(t, "myapp1", "3.0", 3)
	want := img.Descriptor().Digest

	src := t.TempDir()
	writeLayout(t, src, img, "3.0")
	dst := "docker://" + srv.Host + "/myapp1"
	regtest.Run(t, "skopeo", "copy", "--dest-tls-verify=false", "oci:"+src+":3.0", dst+":3.0")
	regtest.Run(t, "skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", dst+":3.0", dst+":latest")

	// The fake holds the very manifest regkit built.
	got, err := srv.Store.HeadManifest(t.Context(), "myapp1", "3.0")
	if err != nil || got.Digest != want {
		t.Fatalf("after skopeo copy, myapp1:3.0 = %s, %v; want %s", got.Digest, err, want)
	}
	for _, b := range img.Blobs() {
		if _, err := srv.Store.StatBlob(t.Context(), "myapp1", b.Descriptor().Digest); err != nil {
			t.Errorf("blob %s missing after skopeo copy: %v", b.Descriptor().Digest, err)
		}
	}

	var inspect struct {
		Digest string
		Layers []string
	}
	out := regtest.Run(t, "skopeo", "inspect", "--tls-verify=false", dst+":3.0")
	if err := json.Unmarshal([]byte(out), &inspect); err != nil {
		t.Fatalf("skopeo inspect output: %v\n%s", err, out)
	}
	if inspect.Digest != want.String() || len(inspect.Layers) != 3 {
		t.Errorf("skopeo inspect = digest %s with %d layers, want %s with 3", inspect.Digest, len(inspect.Layers), want)
	}

	var tags struct{ Tags []string }
	out = regtest.Run(t, "skopeo", "list-tags", "--tls-verify=false", dst)
	if err := json.Unmarshal([]byte(out), &tags); err != nil {
		t.Fatalf("skopeo list-tags output: %v\n%s", err, out)
	}
	if slices.Sort(tags.Tags); !slices.Equal(tags.Tags, []string{"3.0", "latest"}) {
		t.Errorf("skopeo list-tags = %v, want [3.0 latest]", tags.Tags)
	}

	back := filepath.Join(t.TempDir(), "out")
	regtest.Run(t, "skopeo", "copy", "--src-tls-verify=false", dst+":latest", "oci:"+back+":latest")
	desc, m := readLayout(t, back, "latest")
	if desc.Digest != want || len(m.Layers) != 3 {
		t.Errorf("copied back out: %s with %d layers, want %s with 3", desc.Digest, len(m.Layers), want)
	}
}
