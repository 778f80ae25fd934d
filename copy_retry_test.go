package regkit_test

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository/progress"
)

// earlyAnswering returns a registry in front of the fake that answers the
// first two large blob PUTs with 503 before reading their bodies, as load
// balancers do: the HTTP transport then still reads the body in a
// goroutine of its own after PutBlob returned, while the blob is retried.
func earlyAnswering(t *testing.T) (*registry.Registry, *atomic.Int32) {
	t.Helper()
	back := fake.Serve(t)
	u, _ := url.Parse("http://" + back.Host)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var failed atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && r.ContentLength > 1<<20 && failed.Add(1) <= 2 {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	reg, err := registry.New(strings.TrimPrefix(front.URL, "http://"))
	require.NoError(t, err)
	return reg, &failed
}

// bigImage is an image with one layer of 8 MiB of random bytes.
func bigImage(t *testing.T) *image.Image {
	t.Helper()
	big := make([]byte, 8<<20)
	rand.Read(big)
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "", ocispec.MediaTypeImageLayer,
		[][]byte{big}, nil, nil)
	require.NoError(t, err)
	return img
}

// TestCopyRetriesABlobTheRegistryAnsweredEarly copies and pushes a pulled
// image through earlyAnswering (run with -race: the retry must not race
// the transport's late read of the abandoned body), and checks that
// progress counts each byte once.
func TestCopyRetriesABlobTheRegistryAnsweredEarly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, from := serve(t)
	img := bigImage(t)
	desc, err := from.Repository("app").Push(ctx, img, "1")
	require.NoError(t, err)

	t.Run("copy", func(t *testing.T) {
		to, failed := earlyAnswering(t)
		var done atomic.Int64
		observe := progress.With(ctx, func(p progress.Event) {
			if p.Kind == progress.BlobDone {
				done.Add(p.Done)
			}
		})
		_, err := regkit.Copy(observe, from.Repository("app"), "1", to.Repository("app"), nil)
		require.NoError(t, err)
		require.EqualValues(t, 3, failed.Load(), "large blob PUTs: two answered early, the third through")
		require.Equal(t, blobSizes(img), done.Load(), "bytes reported done")
		requireBlobs(t, to.Repository("app"), img)
	})
	t.Run("push of a pulled image", func(t *testing.T) {
		to, failed := earlyAnswering(t)
		pulled, err := from.Repository("app").Image(ctx, desc.Digest)
		require.NoError(t, err)
		_, err = to.Repository("app").Push(ctx, pulled, "1")
		require.NoError(t, err)
		require.EqualValues(t, 3, failed.Load(), "large blob PUTs: two answered early, the third through")
		requireBlobs(t, to.Repository("app"), img)
	})
}
