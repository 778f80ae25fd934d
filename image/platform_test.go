package image_test

import (
	"errors"
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// plat builds a platform.
func plat(os, arch, variant string) ocispec.Platform {
	return ocispec.Platform{OS: os, Architecture: arch, Variant: variant}
}

func TestParsePlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ocispec.Platform
		wantErr error
	}{
		{in: "linux/amd64", want: plat("linux", "amd64", "")},
		{in: "linux/arm64/v8", want: plat("linux", "arm64", "v8")},
		{in: "linux/arm/v7", want: plat("linux", "arm", "v7")},
		{in: "windows/amd64", want: plat("windows", "amd64", "")},
		{in: " Linux/ARM64 ", want: plat("linux", "arm64", "")},
		{in: "windows(10.0.17763)/amd64", want: ocispec.Platform{OS: "windows", OSVersion: "10.0.17763", Architecture: "amd64"}},
		{in: "", wantErr: image.ErrInvalidPlatform},
		{in: "linux", wantErr: image.ErrInvalidPlatform},
		{in: "linux/", wantErr: image.ErrInvalidPlatform},
		{in: "/amd64", wantErr: image.ErrInvalidPlatform},
		{in: "linux/arm/v7/extra", wantErr: image.ErrInvalidPlatform},
		{in: "linux//v7", wantErr: image.ErrInvalidPlatform},
		{in: "linux/am d64", wantErr: image.ErrInvalidPlatform},
		{in: "windows(10.0/amd64", wantErr: image.ErrInvalidPlatform},
		{in: "windows()/amd64", wantErr: image.ErrInvalidPlatform},
		{in: "(1)/amd64", wantErr: image.ErrInvalidPlatform},
		{in: "windows(1)(2)/amd64", wantErr: image.ErrInvalidPlatform},
		{in: "windows)/amd64", wantErr: image.ErrInvalidPlatform},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := image.ParsePlatform(tc.in)
			checkErr(t, fmt.Sprintf("ParsePlatform(%q)", tc.in), err, tc.wantErr)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ParsePlatform(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if err == nil {
				if back, err := image.ParsePlatform(image.FormatPlatform(got)); err != nil || fmt.Sprint(back) != fmt.Sprint(got) {
					t.Errorf("ParsePlatform(FormatPlatform(%+v)) = %+v, %v", got, back, err)
				}
			}
		})
	}
}

func TestFormatPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   ocispec.Platform
		want string
	}{
		{in: plat("linux", "arm", "v7"), want: "linux/arm/v7"},
		{in: plat("linux", "amd64", ""), want: "linux/amd64"},
		{in: ocispec.Platform{OS: "windows", OSVersion: "10.0.20348.707", Architecture: "amd64", OSFeatures: []string{"win32k"}}, want: "windows(10.0.20348.707)/amd64"},
		{in: ocispec.Platform{}, want: "unknown/unknown"},
		{in: plat("linux", "", ""), want: "linux/unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := image.FormatPlatform(tc.in); got != tc.want {
				t.Errorf("FormatPlatform(%+v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMatchPlatform(t *testing.T) {
	t.Parallel()
	win := func(version string) ocispec.Platform {
		return ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: version}
	}
	tests := []struct {
		name       string
		want, have ocispec.Platform
		match      bool
	}{
		{name: "equal", want: plat("linux", "amd64", ""), have: plat("linux", "amd64", ""), match: true},
		{name: "arm64 default variant", want: plat("linux", "arm64", ""), have: plat("linux", "arm64", "v8"), match: true},
		{name: "arm64 v8 wants plain", want: plat("linux", "arm64", "v8"), have: plat("linux", "arm64", ""), match: true},
		{name: "arm64 v9", want: plat("linux", "arm64", ""), have: plat("linux", "arm64", "v9"), match: false},
		{name: "arm default v7", want: plat("linux", "arm", ""), have: plat("linux", "arm", "v7"), match: true},
		{name: "arm v7 vs v6", want: plat("linux", "arm", "v7"), have: plat("linux", "arm", "v6"), match: false},
		{name: "arm plain vs v6", want: plat("linux", "arm", ""), have: plat("linux", "arm", "v6"), match: false},
		{name: "arm v6", want: plat("linux", "arm", "v6"), have: plat("linux", "arm", "v6"), match: true},
		{name: "amd64 v1", want: plat("linux", "amd64", ""), have: plat("linux", "amd64", "v1"), match: true},
		{name: "amd64 v3", want: plat("linux", "amd64", ""), have: plat("linux", "amd64", "v3"), match: false},
		{name: "case", want: plat("Linux", "AMD64", ""), have: plat("linux", "amd64", ""), match: true},
		{name: "x86_64 alias", want: plat("linux", "x86_64", ""), have: plat("linux", "amd64", ""), match: true},
		{name: "aarch64 alias", want: plat("linux", "aarch64", ""), have: plat("linux", "arm64", "v8"), match: true},
		{name: "armhf alias", want: plat("linux", "armhf", ""), have: plat("linux", "arm", "v7"), match: true},
		{name: "armel alias", want: plat("linux", "armel", ""), have: plat("linux", "arm", "v6"), match: true},
		{name: "i386 alias", want: plat("linux", "i386", ""), have: plat("linux", "386", ""), match: true},
		{name: "variant armv7", want: plat("linux", "arm", "v7"), have: plat("linux", "arm", "armv7"), match: true},
		{name: "variant armv8", want: plat("linux", "arm64", ""), have: plat("linux", "arm64", "armv8"), match: true},
		{name: "variant 7", want: plat("linux", "arm", "7"), have: plat("linux", "arm", "v7"), match: true},
		{name: "macos", want: plat("macos", "arm64", ""), have: plat("darwin", "arm64", ""), match: true},
		{name: "other os", want: plat("linux", "amd64", ""), have: plat("windows", "amd64", ""), match: false},
		{name: "other arch", want: plat("linux", "amd64", ""), have: plat("linux", "arm64", ""), match: false},
		{name: "riscv64", want: plat("linux", "riscv64", ""), have: plat("linux", "riscv64", ""), match: true},
		{name: "os version ignored", want: win(""), have: win("10.0.17763.2928"), match: true},
		{name: "os version exact", want: win("10.0.17763.2928"), have: win("10.0.17763.2928"), match: true},
		{name: "os version prefix", want: win("10.0.17763"), have: win("10.0.17763.2928"), match: true},
		{name: "os version other", want: win("10.0.17763"), have: win("10.0.20348.707"), match: false},
		{name: "os version not a part prefix", want: win("10.0.1776"), have: win("10.0.17763.2928"), match: false},
		{name: "os version wanted, none had", want: win("10.0.17763"), have: win(""), match: false},
		{name: "os features ignored", want: plat("linux", "amd64", ""), have: ocispec.Platform{OS: "linux", Architecture: "amd64", OSFeatures: []string{"sse"}}, match: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := image.MatchPlatform(tc.want, tc.have); got != tc.match {
				t.Errorf("MatchPlatform(%+v, %+v) = %v, want %v", tc.want, tc.have, got, tc.match)
			}
		})
	}
}

func TestSelectPlatform(t *testing.T) {
	t.Parallel()
	desc := func(name string, p *ocispec.Platform, annotations map[string]string) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: ocispecDigest(name), Size: 1, Platform: p, Annotations: annotations}
	}
	p := func(s string) *ocispec.Platform {
		v, err := image.ParsePlatform(s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	idx := ocispec.Index{Manifests: []ocispec.Descriptor{
		desc("noplatform", nil, nil),
		desc("amd64", p("linux/amd64"), nil),
		desc("att-unknown", p("unknown/unknown"), nil),
		desc("armv6", p("linux/arm/v6"), nil),
		desc("armv7", p("linux/arm/v7"), nil),
		desc("arm64", p("linux/arm64/v8"), nil),
		desc("att-annotated", p("linux/s390x"), map[string]string{"vnd.docker.reference.type": "attestation-manifest"}),
		desc("amd64-second", p("linux/amd64"), nil),
	}}
	tests := []struct {
		name     string
		want     string
		wantDesc string
		wantMsg  string
	}{
		{name: "first match", want: "linux/amd64", wantDesc: "amd64"},
		{name: "arm64 plain", want: "linux/arm64", wantDesc: "arm64"},
		{name: "arm plain is v7", want: "linux/arm", wantDesc: "armv7"},
		{name: "arm v6", want: "linux/arm/v6", wantDesc: "armv6"},
		{name: "attestations skipped", want: "linux/s390x",
			wantMsg: "no manifest for linux/s390x; the index has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/amd64"},
		{name: "unknown skipped", want: "unknown/unknown", wantMsg: "no manifest for unknown/unknown; the index has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/amd64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := image.SelectPlatform(idx, *p(tc.want))
			if tc.wantMsg == "" {
				if err != nil || got.Digest != ocispecDigest(tc.wantDesc) {
					t.Errorf("SelectPlatform(%s) = %s, %v; want the %s entry", tc.want, got.Digest, err, tc.wantDesc)
				}
				return
			}
			var pe *image.PlatformError
			if !errors.Is(err, image.ErrNoPlatform) || !errors.As(err, &pe) {
				t.Fatalf("SelectPlatform(%s) error = %v, want a *PlatformError matching ErrNoPlatform", tc.want, err)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("SelectPlatform(%s) error = %q, want %q", tc.want, err, tc.wantMsg)
			}
		})
	}
}

func TestPlatformErrorEmpty(t *testing.T) {
	t.Parallel()
	_, err := image.SelectPlatform(ocispec.Index{}, plat("linux", "amd64", ""))
	if want := "no manifest for linux/amd64; the index has no platforms"; err == nil || err.Error() != want {
		t.Errorf("SelectPlatform(empty) error = %v, want %q", err, want)
	}
	if errors.Is(err, image.ErrInvalid) {
		t.Error("PlatformError matches ErrInvalid")
	}
}
