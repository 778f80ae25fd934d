package spec

import (
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/transport"
)

func TestMediaType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                  "",
		ocispec.MediaTypeImageManifest:      ocispec.MediaTypeImageManifest,
		" application/JSON ; charset=utf-8": "application/json",
		ocispec.MediaTypeImageIndex + ";x":  ocispec.MediaTypeImageIndex,
	} {
		if got := MediaType(in); got != want {
			t.Errorf("MediaType(%q) = %q, want %q", in, got, want)
		}
	}
}

// The descriptors of the test manifests.
const (
	cfg   = `{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2}`
	layer = `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":3}`
	child = `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":4}`
)

// manifest returns an image manifest with the extra JSON fields.
func manifest(mediaType, extra string) string {
	mt := ""
	if mediaType != "" {
		mt = `"mediaType":"` + mediaType + `",`
	}
	return `{"schemaVersion":2,` + mt + `"config":` + cfg + `,"layers":[` + layer + `]` + extra + `}`
}

// index returns an image index with the extra JSON fields.
func index(mediaType, extra string) string {
	mt := ""
	if mediaType != "" {
		mt = `"mediaType":"` + mediaType + `",`
	}
	return `{"schemaVersion":2,` + mt + `"manifests":[` + child + `]` + extra + `}`
}

// TestParseManifest decides the manifests the fake and ocilayout once
// judged differently (marked "was:"), and the ordinary ones, as the
// distribution registry does.
func TestParseManifest(t *testing.T) {
	t.Parallel()
	const (
		om = ocispec.MediaTypeImageManifest
		oi = ocispec.MediaTypeImageIndex
		dm = image.MediaTypeDockerManifest
		dl = image.MediaTypeDockerManifestList
	)
	tests := []struct {
		name      string
		mediaType string
		body      string
		want      string // the media type it is stored under; "" when refused
	}{
		{name: "OCI manifest", mediaType: om, body: manifest(om, ""), want: om},
		{name: "OCI manifest without mediaType field", mediaType: om, body: manifest("", ""), want: om},
		{name: "detected manifest", body: manifest("", ""), want: om},
		{name: "declared manifest", body: manifest(om, ""), want: om},
		{name: "Docker manifest", mediaType: dm, body: manifest(dm, ""), want: dm},
		{name: "OCI index", mediaType: oi, body: index(oi, ""), want: oi},
		{name: "detected index", body: index("", ""), want: oi},
		{name: "Docker list", mediaType: dl, body: index(dl, ""), want: dl},
		{name: "artifact manifest", mediaType: om, body: manifest(om, `,"artifactType":"application/x.sig"`), want: om},
		// was: the fake refused these (in memory), ocilayout accepted them.
		{name: "Content-Type with charset", mediaType: om + "; charset=utf-8", body: manifest(om, ""), want: om},
		{name: "Content-Type with space", mediaType: " " + oi + " ;charset=utf-8", body: index(oi, ""), want: oi},
		{name: "Content-Type in capitals", mediaType: strings.ToUpper(om), body: manifest(om, ""), want: om},
		// was: the fake accepted these, ocilayout refused them.
		{name: "manifest with manifests", mediaType: om, body: manifest(om, `,"manifests":[`+child+`]`)},
		{name: "manifest with empty manifests", mediaType: om, body: manifest(om, `,"manifests":[]`)},
		// was: the fake accepted these, ocilayout refused them. The
		// distribution registry takes a null field for an absent one and
		// accepts them; package image counts a null field as present (its
		// DetectMediaType reads {"manifests":null} as an index), so regkit
		// is the stricter here, and the behaviour suite leaves them out.
		{name: "manifest with null manifests", mediaType: om, body: manifest(om, `,"manifests":null`)},
		{name: "index with null layers", mediaType: oi, body: index(oi, `,"layers":null`)},
		{name: "undeclared manifest with manifests", body: manifest("", `,"manifests":[]`)},
		{name: "index with layers", mediaType: oi, body: index(oi, `,"layers":[]`)},
		{name: "index with config", mediaType: oi, body: index(oi, `,"config":`+cfg)},
		{name: "Docker list with layers", mediaType: dl, body: index(dl, `,"layers":[`+layer+`]`)},
		// was: ocilayout accepted these (it compared the field without
		// parameters and case), the fake refused them.
		{name: "mediaType field with charset", mediaType: om, body: manifest(om+"; charset=utf-8", "")},
		{name: "mediaType field in capitals", body: manifest(strings.ToUpper(om), "")},
		// Both refused these, and still do.
		{name: "not JSON", mediaType: om, body: "not json"},
		{name: "JSON array", mediaType: om, body: "[]"},
		{name: "field contradicts Content-Type", mediaType: oi, body: manifest(om, "")},
		{name: "schemaVersion 1", mediaType: om, body: strings.Replace(manifest(om, ""), `"schemaVersion":2`, `"schemaVersion":1`, 1)},
		{name: "no schemaVersion", mediaType: om, body: strings.Replace(manifest(om, ""), `"schemaVersion":2,`, ``, 1)},
		{name: "unknown media type", mediaType: "application/json", body: manifest("", "")},
		{name: "Docker schema 1", mediaType: image.MediaTypeDockerSchema1, body: `{"schemaVersion":1,"fsLayers":[]}`},
		{name: "no shape", body: `{"schemaVersion":2}`},
		{name: "bad config digest", mediaType: om, body: strings.Replace(manifest(om, ""), "sha256:aaaa", "sha256:AAAA", 1)},
		{name: "negative layer size", mediaType: om, body: strings.Replace(manifest(om, ""), `"size":3`, `"size":-3`, 1)},
		{name: "bad child digest", mediaType: oi, body: strings.Replace(index(oi, ""), "sha256:cccc", "md5:cccc", 1)},
		{name: "bad subject", mediaType: om, body: manifest(om, `,"subject":{"digest":"sha256:x","size":1}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseManifest(tc.mediaType, []byte(tc.body))
			if tc.want == "" {
				if !errors.Is(err, transport.ErrManifestInvalid) {
					t.Fatalf("ParseManifest(%q, %s) = %+v, %v; want MANIFEST_INVALID", tc.mediaType, tc.body, m, err)
				}
				return
			}
			if err != nil || m.MediaType != tc.want {
				t.Fatalf("ParseManifest(%q, %s) = %q, %v; want %q", tc.mediaType, tc.body, m.MediaType, err, tc.want)
			}
		})
	}
}

// TestParseManifestFields checks what a backend keeps of a manifest.
func TestParseManifestFields(t *testing.T) {
	t.Parallel()
	body := manifest(ocispec.MediaTypeImageManifest, `,"artifactType":"application/x.sig","annotations":{"a":"b"},"subject":`+child)
	m, err := ParseManifest("", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if m.Config == nil || m.Config.Size != 2 || len(m.Layers) != 1 || m.Layers[0].Size != 3 || m.Manifests != nil ||
		m.Subject == nil || m.Subject.Size != 4 || m.ArtifactType != "application/x.sig" || m.Annotations["a"] != "b" {
		t.Errorf("ParseManifest(image manifest) = %+v", m)
	}
	ix, err := ParseManifest("", []byte(index("", `,"artifactType":"application/x.list","subject":`+child)))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Config != nil || ix.Layers != nil || len(ix.Manifests) != 1 || ix.Subject == nil || ix.ArtifactType != "application/x.list" {
		t.Errorf("ParseManifest(index) = %+v", ix)
	}
}
