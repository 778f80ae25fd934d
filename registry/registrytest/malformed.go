package registrytest

import (
	"encoding/json"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// testMalformedManifests puts manifests that are malformed in ways the
// backends of regkit once judged differently, and checks that every backend
// answers as the distribution registry does:
//
//   - a media type with parameters ("; charset=utf-8") or in upper case is
//     the media type without them (distribution reads the Content-Type with
//     mime.ParseMediaType), and the manifest is stored under the bare type;
//   - an image manifest with a "manifests" field, or an index with a
//     "config" or "layers" field, is MANIFEST_INVALID (image-spec v1.0.2,
//     GHSA-77vh-xpmg-72qh: such a document is ambiguous; distribution's
//     ocischema and manifestlist packages refuse it), and no tag appears;
//   - a mediaType field in the body must be the bare media type (the image
//     spec: it "MUST contain" it; distribution compares it exactly).
func testMalformedManifests(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	good := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "1.0")
	_, raw, err := e.raw.GetManifest(e.ctx, name, good.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	child := ocispec.Descriptor{MediaType: good.MediaType, Digest: good.Digest, Size: good.Size}
	index := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageIndex, "manifests": []ocispec.Descriptor{child},
	})

	tests := []struct {
		name      string
		mediaType string
		body      []byte
		want      error  // nil: accepted
		stored    string // the media type it is then read back with
	}{
		{name: "media type with parameters", mediaType: ocispec.MediaTypeImageManifest + "; charset=utf-8",
			body: raw, stored: ocispec.MediaTypeImageManifest},
		{name: "media type in upper case", mediaType: "Application/VND.OCI.Image.Manifest.v1+JSON",
			body: raw, stored: ocispec.MediaTypeImageManifest},
		{name: "index media type with parameters", mediaType: ocispec.MediaTypeImageIndex + ";charset=utf-8",
			body: index, stored: ocispec.MediaTypeImageIndex},
		{name: "image manifest with a manifests field", mediaType: ocispec.MediaTypeImageManifest,
			body: withField(t, raw, "manifests", []ocispec.Descriptor{child}), want: transport.ErrManifestInvalid},
		{name: "image manifest with an empty manifests field", mediaType: ocispec.MediaTypeImageManifest,
			body: withField(t, raw, "manifests", []any{}), want: transport.ErrManifestInvalid},
		{name: "mediaType field with parameters", mediaType: ocispec.MediaTypeImageManifest,
			body: withField(t, raw, "mediaType", ocispec.MediaTypeImageManifest+"; charset=utf-8"), want: transport.ErrManifestInvalid},
		{name: "index with a layers field", mediaType: ocispec.MediaTypeImageIndex,
			body: withField(t, index, "layers", []any{}), want: transport.ErrManifestInvalid},
		{name: "index with a config field", mediaType: ocispec.MediaTypeImageIndex,
			body: withField(t, index, "config", child), want: transport.ErrManifestInvalid},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tag := "m" + string(rune('a'+i))
			_, err := e.raw.PutManifest(e.ctx, name, tag, tc.mediaType, tc.body, nil)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("PutManifest(%q) = %v, want %v", tc.mediaType, err, tc.want)
			}
			desc, _, err := e.raw.GetManifest(e.ctx, name, tag)
			if tc.want != nil {
				if !errors.Is(err, transport.ErrManifestUnknown) {
					t.Errorf("the tag of a refused manifest: GetManifest = %v, want ErrManifestUnknown", err)
				}
				return
			}
			if err != nil || desc.MediaType != tc.stored {
				t.Errorf("GetManifest = %q, %v; want media type %q", desc.MediaType, err, tc.stored)
			}
		})
	}
}

// withField returns the JSON object body with the field key set to v.
func withField(t *testing.T, body []byte, key string, v any) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m[key] = mustJSON(t, v)
	return mustJSON(t, m)
}
