package mutate_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
	"github.com/regkit/regkit/registry/fake"
)

// tgz returns a gzipped tar layer holding one file, and its diff_id.
func tgz(t testing.TB, name, content string) mutate.Layer {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}))
	_, err := io.WriteString(tw, content)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(tb.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return mutate.Layer{
		Blob:    image.BytesBlob(ocispec.MediaTypeImageLayerGzip, gz.Bytes()),
		DiffID:  digest.FromBytes(tb.Bytes()),
		History: ocispec.History{CreatedBy: "add " + name},
	}
}

// baseConfig is the config of the test bases: with a Healthcheck and a
// container_config, which ocispec.Image does not model.
const baseConfig = `{"architecture":%q,"os":"linux","config":{"Env":["PATH=/bin"],"Healthcheck":{"Test":["CMD","true"]}},` +
	`"container_config":{"Hostname":"b"},"rootfs":{"type":"layers","diff_ids":%s},"history":%s}`

// base builds an image of n layers for platform arch whose config lists
// them, with a history entry each.
func base(t testing.TB, arch string, n int) *image.Image {
	t.Helper()
	var blobs []image.Blob
	var ids []digest.Digest
	var hist []ocispec.History
	for i := range n {
		l := tgz(t, fmt.Sprintf("base/%d", i), strings.Repeat(arch, 100*i+1))
		blobs, ids = append(blobs, l.Blob), append(ids, l.DiffID)
		hist = append(hist, l.History)
	}
	idsJSON, err := json.Marshal(ids)
	require.NoError(t, err)
	histJSON, err := json.Marshal(hist)
	require.NoError(t, err)
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, fmt.Appendf(nil, baseConfig, arch, idsJSON, histJSON))
	img, err := image.New(cfg, blobs, nil)
	require.NoError(t, err)
	return img
}

// rawConfig reads img's config as JSON objects.
func rawConfig(t testing.TB, img *image.Image) map[string]json.RawMessage {
	t.Helper()
	rc, err := img.Config().Open(context.Background())
	require.NoError(t, err)
	defer rc.Close()
	var m map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(rc).Decode(&m))
	return m
}

// unopenable returns img's blobs as blobs that fail the test when opened:
// what mutating must never do to a base's layers.
func unopenable(t testing.TB, img *image.Image) *image.Image {
	t.Helper()
	var layers []image.Blob
	for _, l := range img.Layers() {
		layers = append(layers, image.NewBlob(l.Descriptor(), func(context.Context) (io.ReadCloser, error) {
			t.Errorf("base layer %s opened", l.Descriptor().Digest)
			return nil, fmt.Errorf("opened")
		}))
	}
	out, err := image.New(img.Config(), layers, nil)
	require.NoError(t, err)
	return out
}

// byteCounter is an http.RoundTripper that counts the request body bytes
// it sends.
type byteCounter struct {
	next http.RoundTripper
	sent atomic.Int64
}

func (c *byteCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body = &countingBody{ReadCloser: r.Body, n: &c.sent}
	}
	return c.next.RoundTrip(r)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// tally is what a request log says an operation cost.
type tally struct {
	requests  int
	blobGETs  map[digest.Digest]int // GETs of each blob
	mounts    int                   // POSTs that mounted (201)
	bytesRead int64                 // response bytes of blob GETs
}

// count reads a request log.
func count(reqs []fake.Request) tally {
	tl := tally{requests: len(reqs), blobGETs: map[digest.Digest]int{}}
	for _, r := range reqs {
		switch {
		case r.Route == fake.RouteBlob && r.Method == http.MethodGet:
			i := strings.LastIndex(r.Path, "/blobs/")
			tl.blobGETs[digest.Digest(r.Path[i+len("/blobs/"):])]++
			tl.bytesRead += r.Bytes
		case r.Route == fake.RouteUpload && r.Method == http.MethodPost && r.Status == http.StatusCreated:
			tl.mounts++
		}
	}
	return tl
}

// requestLines formats a request log, one request a line.
func requestLines(reqs []fake.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s %d %dB\n", r.Method, r.Path, r.Status, r.Bytes)
	}
	return b.String()
}
