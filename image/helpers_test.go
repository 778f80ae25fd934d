package image_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Digests of small made-up contents, for hand-written manifests.
var (
	dA = digest.FromString("a")
	dB = digest.FromString("b")
	dC = digest.FromString("c")
)

// ociManifest returns an OCI image manifest with a config of digest dA and
// one layer of digest dB.
func ociManifest() string {
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":1},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":2}]}`, dA, dB)
}

// ociIndex returns an OCI index of two platform images.
func ociIndex() string {
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":10,"platform":{"os":"linux","architecture":"amd64"}},`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":11,"platform":{"os":"linux","architecture":"arm64"}}]}`, dA, dB)
}

// checkErr fails t unless err matches want (nil meaning no error).
func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", call, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want one matching %v", call, err, want)
	}
}

// ocispecDigest is the digest of a made-up manifest named name.
func ocispecDigest(name string) digest.Digest { return digest.FromString(name) }
