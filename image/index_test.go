package image_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// platformDesc returns a manifest descriptor for platform s.
func platformDesc(t *testing.T, d digest.Digest, s string) ocispec.Descriptor {
	t.Helper()
	p, err := image.ParsePlatform(s)
	if err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: 100, Platform: &p}
}

func TestNewIndexLoadIndexRoundTrip(t *testing.T) {
	t.Parallel()
	manifests := []ocispec.Descriptor{platformDesc(t, dA, "linux/amd64"), platformDesc(t, dB, "linux/arm64/v8")}
	tests := []struct {
		name      string
		manifests []ocispec.Descriptor
		opts      *image.Options
		wantType  string
	}{
		{name: "oci", manifests: manifests, wantType: ocispec.MediaTypeImageIndex},
		{name: "docker list", manifests: manifests, opts: &image.Options{MediaType: image.MediaTypeDockerManifestList}, wantType: image.MediaTypeDockerManifestList},
		{name: "empty", wantType: ocispec.MediaTypeImageIndex},
		{name: "referrer index", manifests: manifests, wantType: ocispec.MediaTypeImageIndex, opts: &image.Options{
			ArtifactType: "application/x", Annotations: map[string]string{"a": "b"},
			Subject: &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: dC, Size: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix, err := image.NewIndex(tc.manifests, tc.opts)
			if err != nil {
				t.Fatalf("NewIndex: %v", err)
			}
			desc := ix.Descriptor()
			if desc.MediaType != tc.wantType || desc.Digest != digest.FromBytes(ix.Raw()) || desc.Size != int64(len(ix.Raw())) {
				t.Fatalf("NewIndex descriptor = %+v", desc)
			}
			if !bytes.Contains(ix.Raw(), []byte(`"manifests":[`)) {
				t.Errorf("NewIndex wrote %s, want a manifests array", ix.Raw())
			}
			got, err := image.LoadIndex(desc, ix.Raw())
			if err != nil {
				t.Fatalf("LoadIndex: %v", err)
			}
			if !reflect.DeepEqual(got.Descriptor(), desc) || !reflect.DeepEqual(got.Index(), ix.Index()) {
				t.Errorf("LoadIndex = %+v %+v, want %+v %+v", got.Descriptor(), got.Index(), desc, ix.Index())
			}
			if len(got.Manifests()) != len(tc.manifests) || !reflect.DeepEqual(got.Subject(), ix.Subject()) {
				t.Errorf("LoadIndex: %d manifests, subject %v", len(got.Manifests()), got.Subject())
			}
		})
	}
}

func TestNewIndexErrors(t *testing.T) {
	t.Parallel()
	good := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: dA, Size: 1}
	tests := []struct {
		name      string
		manifests []ocispec.Descriptor
		opts      *image.Options
		wantErr   error
		wantIn    string
	}{
		{name: "no mediaType", manifests: []ocispec.Descriptor{good, {Digest: dB, Size: 1}}, wantErr: image.ErrInvalid, wantIn: "manifests[1]: no mediaType"},
		{name: "bad digest", manifests: []ocispec.Descriptor{{MediaType: "x", Digest: "sha256:x"}}, wantErr: image.ErrInvalid, wantIn: "manifests[0]"},
		{name: "manifest type", opts: &image.Options{MediaType: ocispec.MediaTypeImageManifest}, wantErr: image.ErrUnsupportedMediaType},
		{name: "docker with subject", opts: &image.Options{MediaType: image.MediaTypeDockerManifestList, Subject: &good}, wantErr: image.ErrInvalid},
		{name: "docker with artifactType", opts: &image.Options{MediaType: image.MediaTypeDockerManifestList, ArtifactType: "a/b"}, wantErr: image.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix, err := image.NewIndex(tc.manifests, tc.opts)
			checkErr(t, "NewIndex", err, tc.wantErr)
			if ix != nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("NewIndex = %v, %v; want nil and an error saying %q", ix, err, tc.wantIn)
			}
		})
	}
}

func TestLoadIndexErrors(t *testing.T) {
	t.Parallel()
	raw := []byte(ociIndex())
	manifest := []byte(ociManifest())
	tests := []struct {
		name    string
		desc    ocispec.Descriptor
		raw     []byte
		wantErr error
	}{
		{name: "detect", desc: ocispec.Descriptor{Digest: digest.FromBytes(raw)}, raw: raw},
		{name: "wrong digest", desc: ocispec.Descriptor{Digest: dA}, raw: raw, wantErr: image.ErrInvalid},
		{name: "wrong size", desc: ocispec.Descriptor{Digest: digest.FromBytes(raw), Size: 1}, raw: raw, wantErr: image.ErrInvalid},
		{name: "manifest", desc: ocispec.Descriptor{Digest: digest.FromBytes(manifest)}, raw: manifest, wantErr: image.ErrUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix, err := image.LoadIndex(tc.desc, tc.raw)
			checkErr(t, "LoadIndex", err, tc.wantErr)
			if err == nil && ix.Descriptor().MediaType != ocispec.MediaTypeImageIndex {
				t.Errorf("LoadIndex descriptor = %+v", ix.Descriptor())
			}
		})
	}
}

func TestIndexSelectAndCopies(t *testing.T) {
	t.Parallel()
	ix, err := image.NewIndex([]ocispec.Descriptor{platformDesc(t, dA, "linux/amd64"), platformDesc(t, dB, "linux/arm64/v8")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ix.Select(ocispec.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil || d.Digest != dB {
		t.Fatalf("Select(linux/arm64) = %s, %v; want %s", d.Digest, err, dB)
	}
	d.Platform.Variant = "changed"
	ix.Manifests()[0].Platform.OS = "changed"
	ix.Index().Manifests[0].Digest = dC
	if m := ix.Manifests(); m[1].Platform.Variant != "v8" || m[0].Platform.OS != "linux" || m[0].Digest != dA {
		t.Errorf("Index changed through a returned value: %+v", m)
	}
	_, err = ix.Select(ocispec.Platform{OS: "linux", Architecture: "s390x"})
	var pe *image.PlatformError
	if !errors.As(err, &pe) || len(pe.Have) != 2 {
		t.Errorf("Select(linux/s390x) error = %v, want a *PlatformError listing 2 platforms", err)
	}
}
