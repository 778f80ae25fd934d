package image

import (
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestNormalise(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   ocispec.Platform
		want platformKey
	}{
		{in: ocispec.Platform{OS: "Linux", Architecture: "x86_64"}, want: platformKey{"linux", "amd64", ""}},
		{in: ocispec.Platform{OS: "linux", Architecture: "amd64", Variant: "v1"}, want: platformKey{"linux", "amd64", ""}},
		{in: ocispec.Platform{OS: "linux", Architecture: "amd64", Variant: "v2"}, want: platformKey{"linux", "amd64", "v2"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "aarch64"}, want: platformKey{"linux", "arm64", "v8"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8.0"}, want: platformKey{"linux", "arm64", "v8"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "8"}, want: platformKey{"linux", "arm64", "v8"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "arm"}, want: platformKey{"linux", "arm", "v7"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "armv5"}, want: platformKey{"linux", "arm", "v5"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "armhf"}, want: platformKey{"linux", "arm", "v7"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "armel"}, want: platformKey{"linux", "arm", "v6"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "i686"}, want: platformKey{"linux", "386", ""}},
		{in: ocispec.Platform{OS: "macos", Architecture: "arm64"}, want: platformKey{"darwin", "arm64", "v8"}},
		{in: ocispec.Platform{OS: "linux", Architecture: "ppc64le"}, want: platformKey{"linux", "ppc64le", ""}},
	}
	for _, tc := range tests {
		t.Run(FormatPlatform(tc.in), func(t *testing.T) {
			t.Parallel()
			if got := normalise(tc.in); got != tc.want {
				t.Errorf("normalise(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestBaseType(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: "application/vnd.oci.image.manifest.v1+json", want: "application/vnd.oci.image.manifest.v1+json"},
		{in: "Application/JSON; charset=utf-8", want: "application/json"},
		{in: "  ", want: ""},
	}
	for _, tc := range tests {
		if got := baseType(tc.in); got != tc.want {
			t.Errorf("baseType(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFetchedBlobData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		desc     ocispec.Descriptor
		embedded bool
	}{
		{name: "matching data", desc: ocispec.DescriptorEmptyJSON, embedded: true},
		{name: "wrong digest", desc: ocispec.Descriptor{Digest: digest.FromString("x"), Size: 2, Data: []byte("{}")}},
		{name: "wrong size", desc: ocispec.Descriptor{Digest: ocispec.DescriptorEmptyJSON.Digest, Size: 3, Data: []byte("{}")}},
		{name: "bad digest", desc: ocispec.Descriptor{Digest: "nope", Size: 2, Data: []byte("{}")}},
		{name: "no data", desc: ocispec.Descriptor{Digest: ocispec.DescriptorEmptyJSON.Digest, Size: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := fetchedBlob(tc.desc, nil)
			if got := b.open != nil; got != tc.embedded {
				t.Errorf("fetchedBlob(%+v) readable without fetch = %v, want %v", tc.desc, got, tc.embedded)
			}
		})
	}
}

func TestCloneDescriptorsNil(t *testing.T) {
	t.Parallel()
	if cloneDescriptors(nil) != nil || cloneSubject(nil) != nil {
		t.Error("clone of nil is not nil")
	}
	if b := BytesBlob("x", nil); b.desc.Size != 0 || b.desc.Digest != digest.FromBytes(nil) {
		t.Errorf("BytesBlob(nil) = %+v", b.desc)
	}
}
