package image_test

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

func TestDetectMediaType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr error
	}{
		{name: "field wins", raw: ociManifest(), want: ocispec.MediaTypeImageManifest},
		{name: "docker field", raw: `{"schemaVersion":2,"mediaType":"` + image.MediaTypeDockerManifest + `"}`, want: image.MediaTypeDockerManifest},
		{name: "unknown field returned as is", raw: `{"mediaType":"application/x-foo"}`, want: "application/x-foo"},
		{name: "index by shape", raw: `{"schemaVersion":2,"manifests":[]}`, want: ocispec.MediaTypeImageIndex},
		{name: "manifest by shape", raw: `{"schemaVersion":2,"config":{},"layers":[]}`, want: ocispec.MediaTypeImageManifest},
		{name: "schema1", raw: `{"schemaVersion":1,"fsLayers":[]}`, want: image.MediaTypeDockerSchema1},
		{name: "schema1 signed", raw: `{"schemaVersion":1,"fsLayers":[],"signatures":[]}`, want: image.MediaTypeDockerSchema1Signed},
		{name: "empty mediaType field ignored", raw: `{"schemaVersion":2,"mediaType":"","manifests":null}`, want: ocispec.MediaTypeImageIndex},
		{name: "leading space", raw: "\n\t " + ociIndex(), want: ocispec.MediaTypeImageIndex},
		{name: "unknown shape", raw: `{"schemaVersion":99999,"name":"x"}`, wantErr: image.ErrUnsupportedMediaType},
		{name: "image config", raw: `{"architecture":"amd64","config":{"Env":[]},"rootfs":{}}`, wantErr: image.ErrUnsupportedMediaType},
		{name: "index shape, schemaVersion 3", raw: `{"schemaVersion":3,"manifests":[]}`, wantErr: image.ErrUnsupportedMediaType},
		{name: "empty object", raw: `{}`, wantErr: image.ErrUnsupportedMediaType},
		{name: "empty input", raw: ``, wantErr: image.ErrInvalid},
		{name: "not json", raw: "\xa3\x01\x9b", wantErr: image.ErrInvalid},
		{name: "array", raw: `[1]`, wantErr: image.ErrInvalid},
		{name: "null", raw: `null`, wantErr: image.ErrInvalid},
		{name: "truncated", raw: `{"mediaType":"a`, wantErr: image.ErrInvalid},
		{name: "mediaType not a string", raw: `{"mediaType":7}`, wantErr: image.ErrInvalid},
		{name: "trailing garbage", raw: `{"mediaType":"a"} x`, wantErr: image.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := image.DetectMediaType([]byte(tc.raw))
			checkErr(t, "DetectMediaType", err, tc.wantErr)
			if got != tc.want {
				t.Errorf("DetectMediaType(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestIsIndexIsManifest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mediaType              string
		wantIndex, wantManifst bool
	}{
		{mediaType: ocispec.MediaTypeImageIndex, wantIndex: true},
		{mediaType: image.MediaTypeDockerManifestList, wantIndex: true},
		{mediaType: ocispec.MediaTypeImageManifest, wantManifst: true},
		{mediaType: image.MediaTypeDockerManifest, wantManifst: true},
		{mediaType: "application/vnd.oci.image.manifest.v1+json; charset=utf-8", wantManifst: true},
		{mediaType: " Application/VND.OCI.Image.Index.v1+json ", wantIndex: true},
		{mediaType: image.MediaTypeDockerSchema1},
		{mediaType: image.MediaTypeDockerSchema1Signed},
		{mediaType: ocispec.MediaTypeImageConfig},
		{mediaType: ocispec.MediaTypeDescriptor},
		{mediaType: ""},
	}
	for _, tc := range tests {
		t.Run(tc.mediaType, func(t *testing.T) {
			t.Parallel()
			if got := image.IsIndex(tc.mediaType); got != tc.wantIndex {
				t.Errorf("IsIndex(%q) = %v, want %v", tc.mediaType, got, tc.wantIndex)
			}
			if got := image.IsManifest(tc.mediaType); got != tc.wantManifst {
				t.Errorf("IsManifest(%q) = %v, want %v", tc.mediaType, got, tc.wantManifst)
			}
		})
	}
}
