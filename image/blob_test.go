package image_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// readAll opens b and returns its bytes.
func readAll(t *testing.T, b image.Blob) string {
	t.Helper()
	rc, err := b.Open(t.Context())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	p, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(p)
}

func TestBytesBlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, mediaType, content string
	}{
		{name: "config", mediaType: ocispec.MediaTypeImageConfig, content: `{"architecture":"amd64"}`},
		{name: "layer", mediaType: ocispec.MediaTypeImageLayer, content: strings.Repeat("x", 70000)},
		{name: "empty", mediaType: ocispec.MediaTypeEmptyJSON, content: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := []byte(tc.content)
			b := image.BytesBlob(tc.mediaType, p)
			d := b.Descriptor()
			if d.MediaType != tc.mediaType || d.Digest != digest.FromString(tc.content) || d.Size != int64(len(tc.content)) {
				t.Errorf("BytesBlob descriptor = %+v, want %s, %s, %d", d, tc.mediaType, digest.FromString(tc.content), len(tc.content))
			}
			for i := range p {
				p[i] = '!' // the blob keeps its own copy
			}
			for range 2 { // each Open starts over
				if got := readAll(t, b); got != tc.content {
					t.Errorf("Open read %d bytes that differ from the %d given", len(got), len(tc.content))
				}
			}
		})
	}
}

func TestBlobOpenErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := image.BytesBlob("x", []byte("a")).Open(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Open(cancelled ctx) error = %v, want context.Canceled", err)
	}
	if _, err := (image.Blob{}).Open(t.Context()); err == nil {
		t.Error("zero Blob Open: no error")
	}
	if _, err := image.NewBlob(ocispec.Descriptor{Digest: dA}, nil).Open(t.Context()); err == nil || !strings.Contains(err.Error(), string(dA)) {
		t.Errorf("NewBlob(nil open).Open error = %v, want one naming %s", err, dA)
	}
}

func TestNewBlob(t *testing.T) {
	t.Parallel()
	desc := ocispec.Descriptor{MediaType: "x", Digest: dA, Size: 1, Annotations: map[string]string{"k": "v"},
		URLs: []string{"u"}, Data: []byte("a"), Platform: &ocispec.Platform{OS: "linux", OSFeatures: []string{"f"}}}
	opened := 0
	b := image.NewBlob(desc, func(context.Context) (io.ReadCloser, error) {
		opened++
		return io.NopCloser(strings.NewReader("a")), nil
	})
	desc.Annotations["k"] = "changed"
	desc.Platform.OSFeatures[0] = "changed"
	got := b.Descriptor()
	if got.Annotations["k"] != "v" || got.Platform.OSFeatures[0] != "f" {
		t.Errorf("NewBlob kept the caller's maps: %+v", got)
	}
	got.URLs[0] = "changed"
	if b.Descriptor().URLs[0] != "u" {
		t.Error("Descriptor returned the blob's own slice")
	}
	if s := readAll(t, b); s != "a" || opened != 1 {
		t.Errorf("Open read %q with %d calls, want %q with 1", s, opened, "a")
	}
}
