package validate_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/validate"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry/fake"
)

var linux = ocispec.Platform{OS: "linux", Architecture: "amd64"}

// open returns an OpenFunc over p.
func open(p []byte) image.OpenFunc {
	return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(p)), nil }
}

// build makes an image of layers whose config lists diffIDs; the config
// is given through NewBlob so that New does not check it.
func build(t *testing.T, layers []image.Blob, diffIDs []digest.Digest) *image.Image {
	t.Helper()
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, testimage.Config(linux, diffIDs, nil))
	img, err := image.New(image.NewBlob(cfg.Descriptor(), open(testimage.Config(linux, diffIDs, nil))), layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// lying returns a blob of content p whose descriptor is changed by edit.
func lying(mediaType string, p []byte, edit func(*ocispec.Descriptor)) image.Blob {
	d := image.BytesBlob(mediaType, p).Descriptor()
	edit(&d)
	return image.NewBlob(d, open(p))
}

func TestImage(t *testing.T) {
	t.Parallel()
	gz, gzID := testimage.Layer(ocispec.MediaTypeImageLayerGzip, []byte("gzip layer"))
	plain, plainID := testimage.Layer(ocispec.MediaTypeImageLayer, []byte("plain layer"))
	tarBytes := testimage.Tar([]byte("x"))
	notTar := []byte("hello, not a tar")
	none := func(*ocispec.Descriptor) {}
	tests := []struct {
		name     string
		img      func(t *testing.T) *image.Image
		wantKind validate.Kind // 0: no LayerError
		wantErr  error
	}{
		{name: "valid", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{gz, plain}, []digest.Digest{gzID, plainID})
		}},
		{name: "valid docker", img: func(t *testing.T) *image.Image {
			img, err := testimage.Image(linux, image.MediaTypeDockerConfig, image.MediaTypeDockerLayer, [][]byte{[]byte("a")}, nil, &image.Options{MediaType: image.MediaTypeDockerManifest})
			if err != nil {
				t.Fatal(err)
			}
			return img
		}},
		{name: "artifact", img: func(t *testing.T) *image.Image {
			img, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")), []image.Blob{image.BytesBlob("application/spdx+json", []byte("{}"))}, &image.Options{ArtifactType: "application/spdx+json"})
			if err != nil {
				t.Fatal(err)
			}
			return img
		}},
		{name: "diff_id count", img: func(t *testing.T) *image.Image { return build(t, []image.Blob{gz}, nil) }, wantErr: image.ErrInvalid},
		{name: "diff_id lies", img: func(t *testing.T) *image.Image { return build(t, []image.Blob{gz, plain}, []digest.Digest{gzID, gzID}) }, wantKind: validate.DiffIDMismatch},
		{name: "size", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{lying(ocispec.MediaTypeImageLayer, tarBytes, func(d *ocispec.Descriptor) { d.Size++ })}, []digest.Digest{digest.FromBytes(tarBytes)})
		}, wantKind: validate.SizeMismatch},
		{name: "digest", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{lying(ocispec.MediaTypeImageLayer, tarBytes, func(d *ocispec.Descriptor) { d.Digest = digest.FromString("other") })}, []digest.Digest{digest.FromBytes(tarBytes)})
		}, wantKind: validate.DigestMismatch},
		{name: "says gzip, is not", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{lying(ocispec.MediaTypeImageLayerGzip, tarBytes, none)}, []digest.Digest{digest.FromBytes(tarBytes)})
		}, wantKind: validate.MediaTypeMismatch},
		{name: "not a layer type", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{lying("application/octet-stream", tarBytes, none)}, []digest.Digest{digest.FromBytes(tarBytes)})
		}, wantKind: validate.MediaTypeMismatch},
		{name: "not a tar", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{lying(ocispec.MediaTypeImageLayer, notTar, none)}, []digest.Digest{digest.FromBytes(notTar)})
		}, wantKind: validate.NotTar},
		{name: "unreadable", img: func(t *testing.T) *image.Image {
			return build(t, []image.Blob{image.NewBlob(plain.Descriptor(), func(context.Context) (io.ReadCloser, error) { return nil, errors.New("gone") })}, []digest.Digest{plainID})
		}, wantKind: validate.Unreadable},
		{name: "artifact layer digest", img: func(t *testing.T) *image.Image {
			img, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
				[]image.Blob{lying("application/spdx+json", []byte("{}"), func(d *ocispec.Descriptor) { d.Digest = digest.FromString("x") })},
				&image.Options{ArtifactType: "application/spdx+json"})
			if err != nil {
				t.Fatal(err)
			}
			return img
		}, wantKind: validate.DigestMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := tc.img(t)
			err := validate.Image(t.Context(), img)
			var le *validate.LayerError
			switch {
			case tc.wantKind == 0 && tc.wantErr == nil:
				if err != nil {
					t.Fatalf("Image = %v, want valid", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Image = %v, want %v", err, tc.wantErr)
				}
			case !errors.As(err, &le):
				t.Fatalf("Image = %v, want a *LayerError", err)
			default:
				last := len(img.Layers()) - 1
				if le.Kind != tc.wantKind || le.Index != last || le.Digest != img.Layers()[last].Descriptor().Digest {
					t.Errorf("error = %+v (%v), want %s at layer %d", le, err, tc.wantKind, last)
				}
			}
		})
	}
}

func TestIndex(t *testing.T) {
	t.Parallel()
	repo := fake.New().Repository("app")
	ctx := t.Context()
	good, err := testimage.Image(linux, "", ocispec.MediaTypeImageLayerGzip, [][]byte{[]byte("good")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tarBytes := testimage.Tar([]byte("bad"))
	bad := build(t, []image.Blob{lying(ocispec.MediaTypeImageLayer, tarBytes, func(*ocispec.Descriptor) {})}, []digest.Digest{digest.FromString("not it")})
	for _, img := range []*image.Image{good, bad} {
		if _, err := repo.Push(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	withPlatform := func(img *image.Image, p ocispec.Platform) ocispec.Descriptor {
		d := img.Descriptor()
		d.Platform = &p
		return d
	}
	arm := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	tests := []struct {
		name      string
		children  []ocispec.Descriptor
		wantChild int // -1: valid
		wantKind  validate.Kind
	}{
		{name: "valid", children: []ocispec.Descriptor{withPlatform(good, linux)}, wantChild: -1},
		{name: "bad child", children: []ocispec.Descriptor{withPlatform(good, linux), bad.Descriptor()}, wantChild: 1, wantKind: validate.DiffIDMismatch},
		{name: "wrong platform", children: []ocispec.Descriptor{withPlatform(good, arm)}, wantChild: 0},
		{name: "wrong size", children: []ocispec.Descriptor{func() ocispec.Descriptor { d := good.Descriptor(); d.Size++; return d }()}, wantChild: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := image.NewIndex(tc.children, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = validate.Index(ctx, idx, repo)
			if tc.wantChild < 0 {
				if err != nil {
					t.Fatalf("Index = %v, want valid", err)
				}
				return
			}
			var ce *validate.ChildError
			if !errors.As(err, &ce) || ce.Index != tc.wantChild {
				t.Fatalf("Index = %v, want a ChildError for manifest %d", err, tc.wantChild)
			}
			var le *validate.LayerError
			if tc.wantKind != 0 && (!errors.As(err, &le) || le.Kind != tc.wantKind) {
				t.Errorf("Index = %v, want a %s LayerError inside", err, tc.wantKind)
			}
		})
	}
	// Manifest dispatches on the type: an index pushed and checked.
	idx, err := image.NewIndex([]ocispec.Descriptor{withPlatform(good, linux)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := repo.PushIndex(ctx, idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Manifest(ctx, repo, desc); err != nil {
		t.Errorf("Manifest(index) = %v", err)
	}
	if err := validate.Manifest(ctx, repo, bad.Descriptor()); err == nil {
		t.Error("Manifest(bad image) = nil")
	}
}

// TestImageMemory validates a 64 MiB gzip layer streamed from a generator:
// the bytes allocated stay far below the layer's size.
func TestImageMemory(t *testing.T) {
	const size = 64 << 20
	content := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	layer, diffID := testimage.Layer(ocispec.MediaTypeImageLayerGzip, content)
	compressed := readAll(t, layer)
	content = nil
	img := build(t, []image.Blob{image.NewBlob(layer.Descriptor(), open(compressed))}, []digest.Digest{diffID})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := validate.Image(t.Context(), img); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("validating a %d MiB layer (%d KiB gzip) allocated %d KiB", size>>20, len(compressed)>>10, alloc>>10)
	if alloc > 4<<20 {
		t.Errorf("allocated %d bytes for a %d byte layer, want under 4 MiB", alloc, size)
	}
}

func readAll(t *testing.T, b image.Blob) []byte {
	t.Helper()
	rc, err := b.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	p, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImageConfigWithParameters checks that a config whose media type
// carries parameters is still checked as an image configuration, as
// image.New takes it: validate once compared the type exactly and passed a
// lying diff_id as an artifact's. (Image.ConfigFile refuses such a type, so
// the check fails there, before the layers.)
func TestImageConfigWithParameters(t *testing.T) {
	t.Parallel()
	gz, _ := testimage.Layer(ocispec.MediaTypeImageLayerGzip, []byte("gzip layer"))
	raw := testimage.Config(linux, []digest.Digest{digest.FromString("not the layer")}, nil)
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig+"; charset=utf-8", raw)
	img, err := image.New(cfg, []image.Blob{gz}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(t.Context(), img); err == nil {
		t.Fatal("validate.Image passed an image config whose diff_id lies")
	}
}
