// Package testimage makes small valid images for tests: layers that are
// real tars (gzip-compressed when their media type says so) with their
// diff_ids, and configs that list them. Images built from them pass
// image/validate, as every image a test pushes should.
package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// Tar returns a tar archive of one regular file, "file", holding content,
// with fixed metadata so that the same content gives the same bytes.
func Tar(content []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "file", Mode: 0o644, Size: int64(len(content)), Format: tar.FormatPAX}); err != nil {
		panic(err)
	}
	if _, err := tw.Write(content); err != nil {
		panic(err)
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Layer returns a layer of mediaType whose tar is [Tar] of content,
// gzip-compressed when mediaType ends in gzip, and its diff_id (the
// digest of the tar).
func Layer(mediaType string, content []byte) (image.Blob, digest.Digest) {
	t := Tar(content)
	diffID := digest.FromBytes(t)
	if !strings.HasSuffix(mediaType, "gzip") {
		return image.BytesBlob(mediaType, t), diffID
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(t); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return image.BytesBlob(mediaType, gz.Bytes()), diffID
}

// Config returns the JSON of an image config for platform p whose
// rootfs.diff_ids are diffIDs, with labels (nil for none) in its config.
func Config(p ocispec.Platform, diffIDs []digest.Digest, labels map[string]string) []byte {
	if diffIDs == nil {
		diffIDs = []digest.Digest{}
	}
	c, err := json.Marshal(ocispec.Image{
		Platform: p,
		Config:   ocispec.ImageConfig{Labels: labels},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		panic(err)
	}
	return c
}

// Image returns an image for platform p of one layer of mediaType per
// content, with labels in its config. configType and opts are as for
// [image.New]; configType "" means the OCI config type.
func Image(p ocispec.Platform, configType, mediaType string, contents [][]byte, labels map[string]string, opts *image.Options) (*image.Image, error) {
	if configType == "" {
		configType = ocispec.MediaTypeImageConfig
	}
	layers := make([]image.Blob, len(contents))
	diffIDs := make([]digest.Digest, len(contents))
	for i, c := range contents {
		layers[i], diffIDs[i] = Layer(mediaType, c)
	}
	return image.New(image.BytesBlob(configType, Config(p, diffIDs, labels)), layers, opts)
}
