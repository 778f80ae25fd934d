package image_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
)

// store is a content store for tests: a FetchFunc over a map of blobs.
type store map[digest.Digest][]byte

// add stores b's content and returns b.
func (s store) add(t *testing.T, b image.Blob) image.Blob {
	t.Helper()
	s[b.Descriptor().Digest] = []byte(readAll(t, b))
	return b
}

// fetch implements image.FetchFunc.
func (s store) fetch(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	p, ok := s[d.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s unknown", d.Digest)
	}
	return io.NopCloser(bytes.NewReader(p)), nil
}

const configJSON = `{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":["A=1"]}}`

// withLayers returns layers of mediaType holding contents, and an arm64
// config listing their diff_ids.
func withLayers(mediaType string, contents ...string) ([]image.Blob, []byte) {
	layers := make([]image.Blob, len(contents))
	diffIDs := make([]digest.Digest, len(contents))
	for i, c := range contents {
		layers[i], diffIDs[i] = testimage.Layer(mediaType, []byte(c))
	}
	return layers, testimage.Config(ocispec.Platform{OS: "linux", Architecture: "arm64"}, diffIDs, nil)
}

func TestNewLoadRoundTrip(t *testing.T) {
	t.Parallel()
	subject := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: dC, Size: 3}
	ociLayers, ociConfig := withLayers(ocispec.MediaTypeImageLayerGzip, "l1", "l2")
	dockerLayers, dockerConfig := withLayers(image.MediaTypeDockerLayer, "l1")
	tests := []struct {
		name      string
		config    image.Blob
		layers    []image.Blob
		opts      *image.Options
		wantType  string
		wantLayer int
	}{
		{name: "oci default", config: image.BytesBlob(ocispec.MediaTypeImageConfig, ociConfig),
			layers:   ociLayers,
			wantType: ocispec.MediaTypeImageManifest, wantLayer: 2},
		{name: "docker", config: image.BytesBlob(image.MediaTypeDockerConfig, dockerConfig),
			layers: dockerLayers,
			opts:   &image.Options{MediaType: image.MediaTypeDockerManifest, Annotations: map[string]string{"a": "b"}}, wantType: image.MediaTypeDockerManifest, wantLayer: 1},
		{name: "artifact", config: image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
			layers: []image.Blob{image.BytesBlob("application/spdx+json", []byte(`{"spdx":1}`))},
			opts:   &image.Options{ArtifactType: "application/example.sbom", Subject: subject}, wantType: ocispec.MediaTypeImageManifest, wantLayer: 1},
		{name: "no layers", config: image.BytesBlob("application/vnd.cncf.helm.config.v1+json", []byte("{}")),
			wantType: ocispec.MediaTypeImageManifest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := image.New(tc.config, tc.layers, tc.opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			desc := img.Descriptor()
			if desc.MediaType != tc.wantType || desc.Digest != digest.FromBytes(img.Raw()) || desc.Size != int64(len(img.Raw())) {
				t.Fatalf("New descriptor = %+v, want type %s and the digest and size of Raw", desc, tc.wantType)
			}
			var wire map[string]any
			if err := json.Unmarshal(img.Raw(), &wire); err != nil {
				t.Fatal(err)
			}
			if wire["schemaVersion"] != 2.0 || wire["mediaType"] != tc.wantType || wire["layers"] == nil {
				t.Errorf("New wrote %s, want schemaVersion 2, mediaType %s and a layers array", img.Raw(), tc.wantType)
			}

			s := store{}
			for _, b := range img.Blobs() {
				s.add(t, b)
			}
			got, err := image.Load(desc, bytes.Clone(img.Raw()), s.fetch)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got.Descriptor(), desc) {
				t.Errorf("Load descriptor = %+v, want %+v", got.Descriptor(), desc)
			}
			if !reflect.DeepEqual(got.Manifest(), img.Manifest()) {
				t.Errorf("Load manifest = %+v, want %+v", got.Manifest(), img.Manifest())
			}
			if !bytes.Equal(got.Raw(), img.Raw()) || len(got.Layers()) != tc.wantLayer || len(got.Blobs()) != tc.wantLayer+1 {
				t.Errorf("Load: raw equal %v, %d layers, %d blobs; want equal, %d, %d", bytes.Equal(got.Raw(), img.Raw()), len(got.Layers()), len(got.Blobs()), tc.wantLayer, tc.wantLayer+1)
			}
			for i, b := range got.Blobs() {
				want := img.Blobs()[i]
				if b.Descriptor().Digest != want.Descriptor().Digest || readAll(t, b) != readAll(t, want) {
					t.Errorf("Load blob %d differs from the built one", i)
				}
			}
			if got.ArtifactType() != img.ArtifactType() || !reflect.DeepEqual(got.Subject(), img.Subject()) {
				t.Errorf("Load artifact %q/%v, want %q/%v", got.ArtifactType(), got.Subject(), img.ArtifactType(), img.Subject())
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(configJSON))
	layer := image.BytesBlob(ocispec.MediaTypeImageLayer, []byte("l"))
	subject := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: dC, Size: 3}
	tests := []struct {
		name    string
		config  image.Blob
		layers  []image.Blob
		opts    *image.Options
		wantErr error
		wantIn  string
	}{
		{name: "zero config", config: image.Blob{}, wantErr: image.ErrInvalid, wantIn: "config: invalid digest"},
		{name: "config without mediaType", config: image.BytesBlob("", []byte("{}")), wantErr: image.ErrInvalid, wantIn: "config: no mediaType"},
		{name: "negative size", config: image.NewBlob(ocispec.Descriptor{MediaType: "x", Digest: dA, Size: -1}, nil), wantErr: image.ErrInvalid, wantIn: "negative size"},
		{name: "bad layer", config: cfg, layers: []image.Blob{layer, image.NewBlob(ocispec.Descriptor{MediaType: "x", Digest: "sha256:1"}, nil)}, wantErr: image.ErrInvalid, wantIn: "layers[1]"},
		{name: "index type", config: cfg, opts: &image.Options{MediaType: ocispec.MediaTypeImageIndex}, wantErr: image.ErrUnsupportedMediaType},
		{name: "schema1 type", config: cfg, opts: &image.Options{MediaType: image.MediaTypeDockerSchema1}, wantErr: image.ErrUnsupportedMediaType},
		{name: "docker with artifactType", config: cfg, opts: &image.Options{MediaType: image.MediaTypeDockerManifest, ArtifactType: "a/b"}, wantErr: image.ErrInvalid},
		{name: "docker with subject", config: cfg, opts: &image.Options{MediaType: image.MediaTypeDockerManifest, Subject: subject}, wantErr: image.ErrInvalid},
		{name: "bad subject", config: cfg, opts: &image.Options{Subject: &ocispec.Descriptor{Digest: dC}}, wantErr: image.ErrInvalid, wantIn: "subject: no mediaType"},
		{name: "empty config needs artifactType", config: image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")), wantErr: image.ErrInvalid, wantIn: "artifactType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := image.New(tc.config, tc.layers, tc.opts)
			checkErr(t, "New", err, tc.wantErr)
			if img != nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("New = %v, %v; want nil and an error saying %q", img, err, tc.wantIn)
			}
		})
	}
}

func TestNewDoesNotAlias(t *testing.T) {
	t.Parallel()
	opts := &image.Options{Annotations: map[string]string{"k": "v"}, Subject: &ocispec.Descriptor{MediaType: "x", Digest: dC, Size: 1}}
	layers := []image.Blob{image.BytesBlob("l", []byte("1"))}
	img, err := image.New(image.BytesBlob("application/vnd.example.config", []byte("{}")), layers, opts)
	if err != nil {
		t.Fatal(err)
	}
	before := string(img.Raw())
	opts.Annotations["k"] = "changed"
	opts.Subject.Digest = dA
	layers[0] = image.BytesBlob("l", []byte("2"))
	m := img.Manifest()
	m.Annotations["k"] = "changed"
	m.Layers[0].MediaType = "changed"
	m.Subject.Size = 99
	if got := img.Manifest(); got.Annotations["k"] != "v" || got.Layers[0].MediaType != "l" || got.Subject.Digest != dC || got.Subject.Size != 1 {
		t.Errorf("Image changed through aliases: %+v", got)
	}
	if l := img.Layers(); l[0].Descriptor().Digest != digest.FromString("1") {
		t.Errorf("Layers()[0] = %s, want the layer given to New", l[0].Descriptor().Digest)
	}
	if opts.MediaType != "" {
		t.Errorf("New modified opts: %+v", opts)
	}
	if string(img.Raw()) != before {
		t.Error("Raw changed")
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	raw := []byte(ociManifest())
	good := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	with := func(f func(*ocispec.Descriptor)) ocispec.Descriptor { d := good; f(&d); return d }
	index := []byte(ociIndex())
	tests := []struct {
		name    string
		desc    ocispec.Descriptor
		raw     []byte
		wantErr error
		wantIn  string
	}{
		{name: "ok", desc: good, raw: raw},
		{name: "size unknown", desc: with(func(d *ocispec.Descriptor) { d.Size = 0 }), raw: raw},
		{name: "detect", desc: with(func(d *ocispec.Descriptor) { d.MediaType = "" }), raw: raw},
		{name: "sha512", desc: with(func(d *ocispec.Descriptor) { d.Digest = digest.SHA512.FromBytes(raw) }), raw: raw},
		{name: "wrong digest", desc: with(func(d *ocispec.Descriptor) { d.Digest = dA }), raw: raw, wantErr: image.ErrInvalid, wantIn: "hash to"},
		{name: "wrong size", desc: with(func(d *ocispec.Descriptor) { d.Size++ }), raw: raw, wantErr: image.ErrInvalid, wantIn: "descriptor says"},
		{name: "no digest", desc: with(func(d *ocispec.Descriptor) { d.Digest = "" }), raw: raw, wantErr: image.ErrInvalid},
		{name: "tampered", desc: good, raw: bytes.Replace(raw, []byte(`"size":2`), []byte(`"size":3`), 1), wantErr: image.ErrInvalid},
		{name: "index", desc: ocispec.Descriptor{Digest: digest.FromBytes(index)}, raw: index, wantErr: image.ErrUnsupportedMediaType, wantIn: "LoadIndex"},
		{name: "type mismatch", desc: with(func(d *ocispec.Descriptor) { d.MediaType = image.MediaTypeDockerManifest }), raw: raw, wantErr: image.ErrInvalid},
		{name: "undetectable", desc: ocispec.Descriptor{Digest: digest.FromString("{}")}, raw: []byte("{}"), wantErr: image.ErrUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := image.Load(tc.desc, tc.raw, nil)
			checkErr(t, "Load", err, tc.wantErr)
			if err != nil {
				if img != nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Errorf("Load = %v, %v; want nil and an error saying %q", img, err, tc.wantIn)
				}
				return
			}
			if d := img.Descriptor(); d.Digest != tc.desc.Digest || d.Size != int64(len(raw)) || d.MediaType != ocispec.MediaTypeImageManifest {
				t.Errorf("Load descriptor = %+v", d)
			}
			if _, err := img.Config().Open(t.Context()); err == nil {
				t.Error("Load(nil fetch): Config().Open gave no error")
			}
		})
	}
}

func TestLoadEmbeddedData(t *testing.T) {
	t.Parallel()
	img, err := image.New(image.NewBlob(ocispec.DescriptorEmptyJSON, nil),
		[]image.Blob{image.NewBlob(ocispec.Descriptor{MediaType: "x", Digest: dA, Size: 1, Data: []byte("b")}, nil)},
		&image.Options{ArtifactType: "application/x"})
	if err != nil {
		t.Fatal(err)
	}
	fetched := 0
	got, err := image.Load(img.Descriptor(), img.Raw(), func(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
		fetched++
		return io.NopCloser(strings.NewReader("a")), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := readAll(t, got.Config()); s != "{}" || fetched != 0 {
		t.Errorf("config read %q with %d fetches, want the embedded {} and none", s, fetched)
	}
	// The layer's data does not match its digest, so it is fetched instead.
	if s := readAll(t, got.Layers()[0]); s != "a" || fetched != 1 {
		t.Errorf("layer read %q with %d fetches, want %q from one fetch", s, fetched, "a")
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	cfgBlob := image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(configJSON))
	cfgDesc := cfgBlob.Descriptor()
	big := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: dA, Size: 9 << 20}
	opener := func(s string, err error) image.OpenFunc {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), err }
	}
	failing := func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(strings.NewReader("{"), iotestErrReader{})), nil
	}
	notJSON := image.NewBlob(image.BytesBlob(ocispec.MediaTypeImageConfig, []byte("not json")).Descriptor(), opener("not json", nil)) // New would refuse it in memory
	tests := []struct {
		name    string
		config  image.Blob
		opts    *image.Options
		wantErr error
		wantIn  string
	}{
		{name: "oci", config: cfgBlob},
		{name: "docker", config: image.BytesBlob(image.MediaTypeDockerConfig, []byte(configJSON)), opts: &image.Options{MediaType: image.MediaTypeDockerManifest}},
		{name: "docker octet-stream", config: image.BytesBlob("application/octet-stream", []byte(configJSON)), opts: &image.Options{MediaType: image.MediaTypeDockerManifest}},
		{name: "artifact config", config: image.BytesBlob("application/vnd.cncf.helm.config.v1+json", []byte(configJSON)), wantErr: image.ErrUnsupportedMediaType},
		{name: "too big", config: image.NewBlob(big, opener("", nil)), wantErr: image.ErrInvalid, wantIn: "limit"},
		{name: "open fails", config: image.NewBlob(cfgDesc, opener("", errors.New("boom"))), wantIn: "boom"},
		{name: "read fails", config: image.NewBlob(cfgDesc, failing), wantIn: "read failed"},
		{name: "wrong content", config: image.NewBlob(cfgDesc, opener(strings.ToUpper(configJSON), nil)), wantErr: image.ErrInvalid, wantIn: "does not match"},
		{name: "longer content", config: image.NewBlob(cfgDesc, opener(configJSON+" ", nil)), wantErr: image.ErrInvalid, wantIn: "does not match"},
		{name: "not json", config: notJSON, wantErr: image.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := image.New(tc.config, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := img.ConfigFile(t.Context())
			if tc.wantIn != "" || tc.wantErr != nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Fatalf("ConfigFile error = %v, want one saying %q", err, tc.wantIn)
				}
				if tc.wantErr != nil {
					checkErr(t, "ConfigFile", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFile: %v", err)
			}
			if cfg.Architecture != "arm64" || cfg.OS != "linux" || len(cfg.Config.Env) != 1 || cfg.RootFS.Type != "layers" {
				t.Errorf("ConfigFile = %+v", cfg)
			}
		})
	}
}

// iotestErrReader fails every read.
type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

func TestArtifactType(t *testing.T) {
	t.Parallel()
	subject := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: dC, Size: 3}
	tests := []struct {
		name        string
		config      string
		opts        *image.Options
		want        string
		wantDescArt string
	}{
		{name: "image", config: ocispec.MediaTypeImageConfig},
		{name: "docker config in oci", config: image.MediaTypeDockerConfig},
		{name: "docker octet-stream", config: "application/octet-stream", opts: &image.Options{MediaType: image.MediaTypeDockerManifest}},
		{name: "field", config: ocispec.MediaTypeEmptyJSON, opts: &image.Options{ArtifactType: "application/example.sbom", Subject: subject}, want: "application/example.sbom", wantDescArt: "application/example.sbom"},
		{name: "field wins over config", config: "application/vnd.cncf.helm.config.v1+json", opts: &image.Options{ArtifactType: "a/b"}, want: "a/b", wantDescArt: "a/b"},
		{name: "legacy config type", config: "referrer/image", opts: &image.Options{Subject: subject}, want: "referrer/image"},
		{name: "oci octet-stream", config: "application/octet-stream", want: "application/octet-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := image.New(image.BytesBlob(tc.config, []byte("{}")), nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := img.ArtifactType(); got != tc.want {
				t.Errorf("ArtifactType() = %q, want %q", got, tc.want)
			}
			if got := img.Descriptor().ArtifactType; got != tc.wantDescArt {
				t.Errorf("Descriptor().ArtifactType = %q, want %q", got, tc.wantDescArt)
			}
			var wantSubject *ocispec.Descriptor
			if tc.opts != nil {
				wantSubject = tc.opts.Subject
			}
			if got := img.Subject(); !reflect.DeepEqual(got, wantSubject) {
				t.Errorf("Subject() = %v, want %v", got, wantSubject)
			}
		})
	}
}
