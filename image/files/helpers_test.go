package files_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
)

// ent is a tar entry of a test layer.
type ent struct {
	name string
	typ  byte
	body string
	link string
}

func file(name, body string) ent   { return ent{name: name, typ: tar.TypeReg, body: body} }
func dir(name string) ent          { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, to string) ent  { return ent{name: name, typ: tar.TypeSymlink, link: to} }
func hardlink(name, to string) ent { return ent{name: name, typ: tar.TypeLink, link: to} }
func wh(name string) ent           { return file(name, "") }

// tarOf returns a tar of the entries, in order.
func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if e.typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		require.NoError(t, tw.WriteHeader(hdr))
		_, err := io.WriteString(tw, e.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// gz returns p gzip-compressed.
func gz(t testing.TB, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(p)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// imageOf returns an image of gzip layers of the tars, base first, with a
// config whose diff_ids match.
func imageOf(t testing.TB, tars ...[]byte) *image.Image {
	t.Helper()
	layers := make([]image.Blob, len(tars))
	for i, p := range tars {
		layers[i] = image.BytesBlob(ocispec.MediaTypeImageLayerGzip, gz(t, p))
	}
	return imageOfBlobs(t, tars, layers...)
}

// imageOfBlobs returns an image of the given layers; tars are their
// uncompressed forms, for the config's diff_ids (nil to leave them out).
func imageOfBlobs(t testing.TB, tars [][]byte, layers ...image.Blob) *image.Image {
	t.Helper()
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}}
	for _, p := range tars {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(p))
	}
	// Layers given without their tar (broken ones) get a stand-in
	// diff_id, so that the config counts every layer, as image.New wants.
	for i := len(cfg.RootFS.DiffIDs); i < len(layers); i++ {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, layers[i].Descriptor().Digest)
	}
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, raw), layers, nil)
	require.NoError(t, err)
	return img
}

// brokenBlob is a layer that fails to open: an image whose read must not
// reach it proves the read stopped above it.
func brokenBlob() image.Blob {
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString("broken"), Size: 6}
	return image.NewBlob(desc, func(context.Context) (io.ReadCloser, error) {
		return nil, errBroken
	})
}

var errBroken = errors.New("this layer must not be read")
