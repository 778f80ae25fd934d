package image_test

import (
	"encoding/json"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	realworld "github.com/regkit/regkit/internal/fixtures"
)

func FuzzParseManifest(f *testing.F) {
	for _, seed := range []string{
		ociManifest(),
		ociIndex(),
		withLayer(""),
		`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}`,
		`{"schemaVersion":1,"fsLayers":[{"blobSum":"sha256:0"}],"signatures":[]}`,
		`{"schemaVersion":2,"config":{},"manifests":[],"layers":null,"subject":{"size":-1}}`,
		`{}`, `null`, `[`, "\xff",
	} {
		f.Add("", []byte(seed))
		f.Add(ocispec.MediaTypeImageManifest, []byte(seed))
	}
	for _, raw := range realworld.Files(f) { // the real-world fixtures of internal/fixtures
		f.Add("", raw)
	}
	f.Fuzz(func(t *testing.T, mediaType string, raw []byte) {
		m, err := image.ParseManifest(mediaType, raw)
		if err != nil {
			if !errors.Is(err, image.ErrInvalid) && !errors.Is(err, image.ErrUnsupportedMediaType) {
				t.Fatalf("ParseManifest error %v wraps no sentinel", err)
			}
			return
		}
		// What parses once parses again after a round trip through JSON.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := image.ParseManifest(mediaType, again); err != nil {
			t.Fatalf("ParseManifest(re-marshalled %s) = %v", again, err)
		}
		if _, _, err := image.Children(mediaType, raw); err != nil {
			t.Fatalf("Children failed on a parsed manifest: %v", err)
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	for _, seed := range []string{ociIndex(), ociManifest(), `{"schemaVersion":2,"manifests":[{}]}`, `{}`} {
		f.Add("", []byte(seed))
	}
	for _, raw := range realworld.Files(f) {
		f.Add("", raw)
	}
	f.Fuzz(func(t *testing.T, mediaType string, raw []byte) {
		ix, err := image.ParseIndex(mediaType, raw)
		if err != nil {
			if !errors.Is(err, image.ErrInvalid) && !errors.Is(err, image.ErrUnsupportedMediaType) {
				t.Fatalf("ParseIndex error %v wraps no sentinel", err)
			}
			return
		}
		for _, d := range ix.Manifests {
			if d.Digest.Validate() != nil || d.Size < 0 {
				t.Fatalf("ParseIndex accepted descriptor %+v", d)
			}
		}
		_, _ = image.SelectPlatform(ix, ocispec.Platform{OS: "linux", Architecture: "amd64"})
	})
}

func FuzzParsePlatform(f *testing.F) {
	for _, seed := range []string{"linux/amd64", "linux/arm/v7", "windows(10.0.17763)/amd64", "", "a/b/c/d", "x(/y"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := image.ParsePlatform(s)
		if err != nil {
			if !errors.Is(err, image.ErrInvalidPlatform) {
				t.Fatalf("ParsePlatform(%q) error %v is not ErrInvalidPlatform", s, err)
			}
			return
		}
		back, err := image.ParsePlatform(image.FormatPlatform(p))
		if err != nil || !image.MatchPlatform(p, back) || back.OSVersion != p.OSVersion {
			t.Fatalf("ParsePlatform(FormatPlatform(%+v)) = %+v, %v", p, back, err)
		}
	})
}
