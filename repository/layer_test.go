package repository_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport/remote"
	"github.com/regkit/regkit/transport/server"
)

// requestLog serves next, noting each request's method and path.
type requestLog struct {
	next http.Handler
	mu   sync.Mutex
	log  []string
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.log = append(l.log, r.Method+" "+r.URL.Path)
	l.mu.Unlock()
	l.next.ServeHTTP(w, r)
}

func (l *requestLog) count(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.log {
		if strings.HasPrefix(e, method+" ") {
			n++
		}
	}
	return n
}

// noise returns n bytes that gzip cannot shrink.
func noise(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	return b
}

func httpRepo(t *testing.T) (*repository.Repository, *requestLog) {
	t.Helper()
	log := &requestLog{next: server.NewHandler(fake.NewStore())}
	srv := httptest.NewServer(log)
	t.Cleanup(srv.Close)
	c, err := remote.New(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	return repository.New(c, "app"), log
}

func TestPushLayer(t *testing.T) {
	tests := []struct {
		name        string
		size        int // bytes of incompressible content
		wantPatches bool
	}{
		{"small layer, known digest", 1 << 10, false},
		{"large layer, streamed in chunks", 12 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, log := httpRepo(t)
			content := noise(uint64(tt.size), tt.size)
			l := layer.FromFiles([]layer.File{{Name: "data", Mode: 0o644, Content: content}})
			var mu sync.Mutex
			var events []progress.Event
			ctx := progress.With(t.Context(), func(e progress.Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			})
			info, err := repo.PushLayer(ctx, l)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPatches, log.count("PATCH") > 0, "PATCH requests")

			// What the registry holds is the layer Encode makes, and its
			// diff_id is what Encode says.
			var want bytes.Buffer
			wantInfo, err := l.Encode(t.Context(), &want)
			require.NoError(t, err)
			assert.Equal(t, wantInfo, info)
			rc, err := repo.Blob(t.Context(), info.Descriptor)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, err)
			rc.Close()
			assert.Equal(t, want.Bytes(), got)

			require.NotEmpty(t, events)
			last := events[len(events)-1]
			assert.Equal(t, progress.BlobDone, last.Kind)
			assert.Equal(t, info.Descriptor.Digest, last.Descriptor.Digest)
			assert.Equal(t, info.Descriptor.Size, last.Done)
		})
	}
}

func TestPushLayerThenImage(t *testing.T) {
	repo, _ := httpRepo(t)
	info, err := repo.PushLayer(t.Context(), layer.FromFiles([]layer.File{{Name: "hello", Mode: 0o644, Content: []byte("hi")}}))
	require.NoError(t, err)
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{info.DiffID}}}
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	config := image.BytesBlob(ocispec.MediaTypeImageConfig, raw)
	img, err := image.New(config, []image.Blob{image.NewBlob(info.Descriptor, nil)}, nil)
	require.NoError(t, err)
	_, err = repo.Push(t.Context(), img, "v1")
	require.NoError(t, err, "the layer is there: push does not open it")
}

func TestPushLayerFailureCancels(t *testing.T) {
	repo, log := httpRepo(t)
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	big := noise(1, 12<<20)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: int64(len(big)), Mode: 0o644}))
	_, err := tw.Write(big)
	require.NoError(t, err)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}))
	require.NoError(t, tw.Close())

	_, err = repo.PushLayer(t.Context(), layer.FromTar(&in, layer.WithCompression(layer.Uncompressed)))
	require.ErrorIs(t, err, layer.ErrPathEscapes)
	assert.Positive(t, log.count("PATCH"), "the first chunks went before the bad entry")
	assert.Equal(t, 1, log.count("DELETE"), "the session is cancelled")
	assert.Zero(t, log.count("PUT"), "nothing committed")

	_, err = repository.New(fake.NewStore(), "app").PushLayer(context.Background(), layer.FromDir(t.TempDir()+"/missing"))
	assert.Error(t, err)
}
