package image_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// withLayer returns an OCI manifest whose single layer descriptor is layer.
func withLayer(layer string) string {
	return fmt.Sprintf(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":1},"layers":[%s]}`, dA, layer)
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	sha512 := digest.SHA512.FromString("x")
	tests := []struct {
		name       string
		mediaType  string
		raw        string
		wantErr    error
		wantInErr  string
		wantLayers int
	}{
		{name: "oci detected", raw: ociManifest(), wantLayers: 1},
		{name: "oci given", mediaType: ocispec.MediaTypeImageManifest, raw: ociManifest(), wantLayers: 1},
		{name: "content-type parameters", mediaType: ocispec.MediaTypeImageManifest + "; charset=utf-8", raw: ociManifest(), wantLayers: 1},
		{name: "no mediaType field, given docker", mediaType: image.MediaTypeDockerManifest, raw: withLayer(""), wantLayers: 0},
		{name: "sha512 layer", raw: withLayer(fmt.Sprintf(`{"mediaType":"x","digest":%q,"size":1}`, sha512)), wantLayers: 1},
		{name: "layer without mediaType tolerated", raw: withLayer(fmt.Sprintf(`{"digest":%q,"size":1}`, dB)), wantLayers: 1},
		{name: "mismatched mediaType", mediaType: image.MediaTypeDockerManifest, raw: ociManifest(), wantErr: image.ErrInvalid, wantInErr: "body says"},
		{name: "index given", mediaType: ocispec.MediaTypeImageIndex, raw: ociIndex(), wantErr: image.ErrUnsupportedMediaType},
		{name: "index detected", raw: ociIndex(), wantErr: image.ErrUnsupportedMediaType},
		{name: "schema1", raw: `{"schemaVersion":1,"fsLayers":[]}`, wantErr: image.ErrUnsupportedMediaType},
		{name: "schema version 1", mediaType: ocispec.MediaTypeImageManifest, raw: strings.Replace(ociManifest(), `"schemaVersion":2`, `"schemaVersion":1`, 1), wantErr: image.ErrInvalid, wantInErr: "schemaVersion 1"},
		{name: "schema version missing", mediaType: ocispec.MediaTypeImageManifest, raw: "{" + withLayer("")[len(`{"schemaVersion":2,`):], wantErr: image.ErrInvalid, wantInErr: "schemaVersion 0"},
		{name: "has manifests too", raw: strings.Replace(ociManifest(), `"layers"`, `"manifests":[],"layers"`, 1), wantErr: image.ErrInvalid, wantInErr: "manifests field"},
		{name: "bad layer digest", raw: withLayer(`{"mediaType":"x","digest":"sha256:zz","size":1}`), wantErr: digest.ErrDigestInvalidLength, wantInErr: "layers[0]: invalid digest"},
		{name: "unknown algorithm", raw: withLayer(`{"mediaType":"x","digest":"md5:d41d8cd98f00b204e9800998ecf8427e","size":1}`), wantErr: image.ErrInvalid, wantInErr: "layers[0]"},
		{name: "negative size", raw: withLayer(fmt.Sprintf(`{"mediaType":"x","digest":%q,"size":-1}`, dB)), wantErr: image.ErrInvalid, wantInErr: "layers[0]: negative size"},
		{name: "missing config", raw: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`, wantErr: image.ErrInvalid, wantInErr: "config: invalid digest"},
		{name: "bad subject", raw: strings.Replace(ociManifest(), `"layers"`, `"subject":{"mediaType":"x","digest":"sha256:1","size":1},"layers"`, 1), wantErr: image.ErrInvalid, wantInErr: "subject"},
		{name: "layers wrong type", raw: `{"schemaVersion":2,"config":{},"layers":{}}`, wantErr: image.ErrInvalid},
		{name: "not json", raw: `nope`, wantErr: image.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := image.ParseManifest(tc.mediaType, []byte(tc.raw))
			checkErr(t, "ParseManifest", err, tc.wantErr)
			if err != nil {
				if !strings.Contains(err.Error(), tc.wantInErr) {
					t.Errorf("ParseManifest error %q does not say %q", err, tc.wantInErr)
				}
				return
			}
			if m.SchemaVersion != 2 || len(m.Layers) != tc.wantLayers || m.Config.Digest != dA {
				t.Errorf("ParseManifest = %+v, want schemaVersion 2, config %s and %d layers", m, dA, tc.wantLayers)
			}
		})
	}
}

func TestParseIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mediaType string
		raw       string
		wantErr   error
		wantInErr string
		wantLen   int
	}{
		{name: "oci detected", raw: ociIndex(), wantLen: 2},
		{name: "docker list", raw: `{"schemaVersion":2,"mediaType":"` + image.MediaTypeDockerManifestList + `","manifests":[]}`, wantLen: 0},
		{name: "no mediaType field, given", mediaType: ocispec.MediaTypeImageIndex, raw: `{"schemaVersion":2,"manifests":[]}`},
		{name: "subject", raw: fmt.Sprintf(`{"schemaVersion":2,"manifests":[],"subject":{"mediaType":"x","digest":%q,"size":3}}`, dC)},
		{name: "manifest given", raw: ociManifest(), mediaType: ocispec.MediaTypeImageManifest, wantErr: image.ErrUnsupportedMediaType},
		{name: "mismatch", raw: ociIndex(), mediaType: image.MediaTypeDockerManifestList, wantErr: image.ErrInvalid},
		{name: "has layers", raw: `{"schemaVersion":2,"manifests":[],"layers":[]}`, wantErr: image.ErrInvalid, wantInErr: "config or layers"},
		{name: "schema version", mediaType: ocispec.MediaTypeImageIndex, raw: `{"schemaVersion":3,"manifests":[]}`, wantErr: image.ErrInvalid, wantInErr: "schemaVersion 3"},
		{name: "bad digest", raw: `{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:abc","size":1}]}`, wantErr: image.ErrInvalid, wantInErr: "manifests[0]: invalid digest"},
		{name: "negative size", raw: fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"digest":%q},{"mediaType":"x","digest":%q,"size":-5}]}`, dA, dA), wantErr: image.ErrInvalid, wantInErr: "manifests[1]: negative size"},
		{name: "bad subject", raw: `{"schemaVersion":2,"manifests":[],"subject":{"digest":"x"}}`, wantErr: image.ErrInvalid, wantInErr: "subject"},
		{name: "manifests wrong type", raw: `{"schemaVersion":2,"manifests":"x"}`, wantErr: image.ErrInvalid},
		{name: "unknown shape", raw: `{"schemaVersion":2}`, wantErr: image.ErrUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix, err := image.ParseIndex(tc.mediaType, []byte(tc.raw))
			checkErr(t, "ParseIndex", err, tc.wantErr)
			if err != nil {
				if !strings.Contains(err.Error(), tc.wantInErr) {
					t.Errorf("ParseIndex error %q does not say %q", err, tc.wantInErr)
				}
				return
			}
			if len(ix.Manifests) != tc.wantLen {
				t.Errorf("ParseIndex: %d manifests, want %d", len(ix.Manifests), tc.wantLen)
			}
		})
	}
}

func TestChildren(t *testing.T) {
	t.Parallel()
	withSubject := strings.Replace(ociManifest(), `"layers"`, fmt.Sprintf(`"subject":{"mediaType":"x","digest":%q,"size":3},"layers"`, dC), 1)
	schema1 := fmt.Sprintf(`{"schemaVersion":1,"fsLayers":[{"blobSum":%q},{"blobSum":%q},{"blobSum":%q}]}`, dA, dB, dA)
	tests := []struct {
		name        string
		mediaType   string
		raw         string
		want        []digest.Digest
		wantSubject digest.Digest
		wantErr     error
	}{
		{name: "manifest", raw: ociManifest(), want: []digest.Digest{dA, dB}},
		{name: "manifest with subject", raw: withSubject, want: []digest.Digest{dA, dB}, wantSubject: dC},
		{name: "index", raw: ociIndex(), want: []digest.Digest{dA, dB}},
		{name: "index given type", mediaType: ocispec.MediaTypeImageIndex, raw: ociIndex(), want: []digest.Digest{dA, dB}},
		{name: "schema1", raw: schema1, want: []digest.Digest{dA, dB, dA}},
		{name: "schema1 signed given", mediaType: image.MediaTypeDockerSchema1Signed, raw: schema1, want: []digest.Digest{dA, dB, dA}},
		{name: "schema1 bad blobSum", raw: `{"schemaVersion":1,"fsLayers":[{"blobSum":"nope"}]}`, wantErr: image.ErrInvalid},
		{name: "schema1 given, body is not", mediaType: image.MediaTypeDockerSchema1, raw: ociManifest(), wantErr: image.ErrInvalid},
		{name: "schema1 given, not json", mediaType: image.MediaTypeDockerSchema1, raw: `x`, wantErr: image.ErrInvalid},
		{name: "schema1 wrong fsLayers", raw: `{"schemaVersion":1,"fsLayers":{}}`, wantErr: image.ErrInvalid},
		{name: "bad manifest", raw: withLayer(`{"digest":"x"}`), wantErr: image.ErrInvalid},
		{name: "bad index", mediaType: ocispec.MediaTypeImageIndex, raw: `{"schemaVersion":2,"manifests":[{}]}`, wantErr: image.ErrInvalid},
		{name: "config blob", mediaType: ocispec.MediaTypeImageConfig, raw: `{}`, wantErr: image.ErrUnsupportedMediaType},
		{name: "undetectable", raw: `{}`, wantErr: image.ErrUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			refs, subject, err := image.Children(tc.mediaType, []byte(tc.raw))
			checkErr(t, "Children", err, tc.wantErr)
			var got []digest.Digest
			for _, r := range refs {
				got = append(got, r.Digest)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Children refs = %v, want %v", got, tc.want)
			}
			var gotSubject digest.Digest
			if subject != nil {
				gotSubject = subject.Digest
			}
			if gotSubject != tc.wantSubject {
				t.Errorf("Children subject = %q, want %q", gotSubject, tc.wantSubject)
			}
		})
	}
}

func TestChildrenSchema1Descriptors(t *testing.T) {
	t.Parallel()
	refs, _, err := image.Children("", []byte(fmt.Sprintf(`{"schemaVersion":1,"fsLayers":[{"blobSum":%q}]}`, dA)))
	if err != nil {
		t.Fatal(err)
	}
	want := ocispec.Descriptor{MediaType: image.MediaTypeDockerLayer, Digest: dA, Size: -1}
	if len(refs) != 1 || refs[0].MediaType != want.MediaType || refs[0].Digest != want.Digest || refs[0].Size != want.Size {
		t.Errorf("Children = %+v, want [%+v]", refs, want)
	}
}
