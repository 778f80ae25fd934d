package image

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// platformImage builds an image whose config says platform (os/arch[/variant]).
func platformImage(t *testing.T, config string) *Image {
	t.Helper()
	layer := BytesBlob(ocispec.MediaTypeImageLayer, []byte("layer of "+config)) // uncompressed: the diff_id is the digest
	config = strings.Replace(config, `"diff_ids":[]`, `"diff_ids":["`+layer.Descriptor().Digest.String()+`"]`, 1)
	img, err := New(BytesBlob(ocispec.MediaTypeImageConfig, []byte(config)), []Blob{layer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func cfg(os, arch, variant string) string {
	return fmt.Sprintf(`{"os":%q,"architecture":%q,"variant":%q,"rootfs":{"type":"layers","diff_ids":[]}}`, os, arch, variant)
}

func TestIndexOf(t *testing.T) {
	t.Parallel()
	amd := platformImage(t, cfg("linux", "amd64", ""))
	arm := platformImage(t, cfg("linux", "arm64", "v8"))
	arm7 := platformImage(t, cfg("linux", "arm", "v7"))
	noOS := platformImage(t, `{"architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}`)
	artifact, err := New(BytesBlob("application/vnd.example.sbom", []byte("{}")), nil, &Options{ArtifactType: "application/vnd.example.sbom"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		imgs    []*Image
		want    []string // platforms of the entries
		wantErr error
	}{
		{name: "three platforms", imgs: []*Image{amd, arm, arm7}, want: []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}},
		{name: "none", imgs: nil, want: nil},
		{name: "nil image", imgs: []*Image{amd, nil}, wantErr: ErrInvalid},
		{name: "config without os", imgs: []*Image{noOS}, wantErr: ErrInvalid},
		{name: "same platform twice", imgs: []*Image{amd, arm, amd}, wantErr: ErrInvalid},
		{name: "an artifact", imgs: []*Image{artifact}, wantErr: ErrUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix, err := IndexOf(t.Context(), tc.imgs, nil)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("IndexOf = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, d := range ix.Manifests() {
				got = append(got, FormatPlatform(*d.Platform))
				if d.Digest != tc.imgs[i].Descriptor().Digest {
					t.Errorf("entry %d = %s, want %s", i, d.Digest, tc.imgs[i].Descriptor().Digest)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("platforms = %v, want %v", got, tc.want)
			}
			if len(tc.imgs) > 0 {
				// linux/arm64 finds the arm64/v8 image, as containerd matches.
				d, err := ix.Select(ocispec.Platform{OS: "linux", Architecture: "arm64"})
				if err != nil || d.Digest != arm.Descriptor().Digest {
					t.Errorf("Select(linux/arm64) = %s, %v; want %s", d.Digest, err, arm.Descriptor().Digest)
				}
			}
		})
	}
}
