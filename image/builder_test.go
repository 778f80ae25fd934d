package image_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
)

func TestBuilder(t *testing.T) {
	t.Parallel()
	l1, id1 := testimage.Layer(ocispec.MediaTypeImageLayerGzip, []byte("one"))
	l2, id2 := testimage.Layer(ocispec.MediaTypeImageLayerGzip, []byte("two"))
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"})
	b.SetCreated(created)
	b.SetEnv("PATH", "/bin")
	b.SetEnv("A", "1")
	b.SetEnv("PATH", "/usr/bin:/bin")
	b.SetEntrypoint("/app", "-v")
	b.SetCmd("serve")
	b.SetWorkingDir("/srv")
	b.SetUser("1000:1000")
	b.SetLabel("org.opencontainers.image.source", "https://example.com")
	b.ExposePort("8080")
	b.ExposePort("53/udp")
	b.AddVolume("/data")
	b.AddLayer(l1, id1, "COPY one /")
	b.AddLayer(l2, id2, "")
	img, err := b.Image(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := img.ConfigFile(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
		Config: ocispec.ImageConfig{
			User:         "1000:1000",
			ExposedPorts: map[string]struct{}{"8080/tcp": {}, "53/udp": {}},
			Env:          []string{"PATH=/usr/bin:/bin", "A=1"},
			Entrypoint:   []string{"/app", "-v"},
			Cmd:          []string{"serve"},
			Volumes:      map[string]struct{}{"/data": {}},
			WorkingDir:   "/srv",
			Labels:       map[string]string{"org.opencontainers.image.source": "https://example.com"},
		},
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{id1, id2}},
		History: []ocispec.History{{Created: &created, CreatedBy: "COPY one /"}, {Created: &created}},
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Errorf("config =\n%s\nwant\n%s", gj, wj)
	}
	if m := img.Manifest(); len(m.Layers) != 2 || m.Layers[0].Digest != l1.Descriptor().Digest || m.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Errorf("manifest = %+v", m)
	}

	// Same inputs, same digest: no clock unless asked.
	again := func() digest.Digest {
		b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
		b.AddLayer(l1, id1, "")
		img, err := b.Image(nil)
		if err != nil {
			t.Fatal(err)
		}
		return img.Descriptor().Digest
	}
	if again() != again() {
		t.Error("two builds of the same inputs differ")
	}
}

func TestBuilderErrors(t *testing.T) {
	t.Parallel()
	l, _ := testimage.Layer(ocispec.MediaTypeImageLayer, []byte("x"))
	noArch := image.NewBuilder(ocispec.Platform{OS: "linux"})
	if _, err := noArch.Image(nil); !errors.Is(err, image.ErrInvalid) {
		t.Errorf("Image(no architecture) = %v, want ErrInvalid", err)
	}
	bad := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	bad.AddLayer(l, "sha256:nope", "")
	if _, err := bad.Image(nil); !errors.Is(err, image.ErrInvalid) {
		t.Errorf("Image(bad diff_id) = %v, want ErrInvalid", err)
	}
}
