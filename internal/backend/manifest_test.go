package backend

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// TestCheckManifestPut pins the order of the checks both in-process
// backends share: the ref, then the condition, then the body, then its
// digest; and which blobs a put needs.
func TestCheckManifestPut(t *testing.T) {
	t.Parallel()
	const mt = "application/vnd.oci.image.manifest.v1+json"
	body := []byte(`{"schemaVersion":2,"mediaType":"` + mt + `",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + hex('c') + `","size":2},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:` + hex('a') + `","size":1},` +
		`{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:` + hex('b') + `","size":1,"urls":["https://example.com/b"]}]}`)
	good := digest.FromBytes(body)
	tests := []struct {
		name, ref string
		body      []byte
		ifMatch   digest.Digest
		want      error
	}{
		{"tag", "v1", body, "", nil},
		{"digest", good.String(), body, "", nil},
		{"bad tag before bad body", "-v1", []byte("{"), "", transport.ErrTagInvalid},
		{"bad condition before bad body", "v1", []byte("{"), "sha256:x", transport.ErrDigestInvalid},
		{"bad body before digest", digest.FromString("x").String(), []byte("{"), "", transport.ErrManifestInvalid},
		{"digest of another body", digest.FromString("x").String(), body, "", transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CheckManifestPut(tc.ref, mt, tc.body, &transport.PutManifestOptions{IfMatch: tc.ifMatch})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if p.Digest != good {
				t.Errorf("Digest = %s, want %s", p.Digest, good)
			}
			// The config and the one distributable layer; the layer with
			// urls need not be pushed.
			if len(p.Blobs) != 2 || p.Blobs[0].Digest.Encoded() != hex('c') || p.Blobs[1].Digest.Encoded() != hex('a') {
				t.Errorf("Blobs = %v, want the config and the first layer", p.Blobs)
			}
		})
	}
}

func hex(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
