package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

func bytesReader(p []byte) io.Reader { return bytes.NewReader(p) }

// appImage builds an image of real gzipped tar layers, one file each, as
// skopeo and docker expect them.
func appImage(t *testing.T, name, version string, layers int) *image.Image {
	t.Helper()
	var blobs []image.Blob
	var diffIDs []digest.Digest
	for i := range layers {
		nonce := make([]byte, 8)
		rand.Read(nonce)
		var tarball bytes.Buffer
		tw := tar.NewWriter(&tarball)
		content := []byte(name + " " + version + " layer " + string(rune('a'+i)) + " " + hex.EncodeToString(nonce) + "\n")
		if err := tw.WriteHeader(&tar.Header{Name: "app/file" + string(rune('a'+i)), Mode: 0o644, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(content)
		tw.Close()
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(tarball.Bytes())
		zw.Close()
		blobs = append(blobs, image.BytesBlob(ocispec.MediaTypeImageLayerGzip, gz.Bytes()))
		diffIDs = append(diffIDs, digest.FromBytes(tarball.Bytes()))
	}
	cfg, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Cmd: []string{"/app/filea"}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, cfg), blobs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func readAllClose(rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	return io.ReadAll(rc)
}

func readAllCloseBlob(t *testing.T, b image.Blob) ([]byte, error) {
	rc, err := b.Open(t.Context())
	if err != nil {
		return nil, err
	}
	return readAllClose(rc)
}
