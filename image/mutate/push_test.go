package mutate_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// served is a fake registry over HTTP and a client of it that counts the
// request body bytes it sends.
type served struct {
	srv  *fake.Server
	reg  *registry.Registry
	sent *byteCounter
}

func serve(t *testing.T) served {
	t.Helper()
	srv := fake.Serve(t)
	bc := &byteCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	reg, err := registry.New(srv.Host, registry.WithClientOptions(remote.WithRoundTripper(bc)))
	require.NoError(t, err)
	return served{srv: srv, reg: reg, sent: bc}
}

// reset empties the request log and the byte count.
func (s served) reset() {
	s.srv.ResetRequests()
	s.sent.sent.Store(0)
}

// size is the total size of blobs.
func size(blobs ...image.Blob) int64 {
	var n int64
	for _, b := range blobs {
		n += b.Descriptor().Size
	}
	return n
}

// TestAppendPushHTTP appends one layer to a 20-layer base pulled over HTTP
// and pushes the new image three ways: to the base's repository (the base
// layers are skipped: not one of their bytes moves), to another repository
// of the same registry (they are mounted: not one of their bytes moves),
// and to another registry (each is read once from the base's registry,
// streamed to the other). The figures it logs are the note's.
func TestAppendPushHTTP(t *testing.T) {
	ctx := t.Context()
	src, other := serve(t), serve(t)
	b := base(t, "amd64", 20)
	_, err := src.reg.Repository("base").Push(ctx, b, "1")
	require.NoError(t, err)

	src.reset()
	pulled, err := src.reg.Repository("base").Tag("1").Image(ctx)
	require.NoError(t, err)
	app := tgz(t, "app", "binary")
	img, err := mutate.Append(ctx, pulled, []mutate.Layer{app}, func(c *ocispec.Image) error {
		c.Config.Entrypoint = []string{"/app"}
		return nil
	})
	require.NoError(t, err)
	mutateReqs := src.srv.Requests()
	t.Logf("pull the base and append: %d requests\n%s", len(mutateReqs), requestLines(mutateReqs))
	require.Len(t, mutateReqs, 2, "the manifest and the config")

	baseLayers := b.Layers()
	newBytes := size(app.Blob, img.Config()) + img.Descriptor().Size
	tests := []struct {
		name     string
		dst      served
		repo     string
		blobs    int   // blobs found in place or mounted, one POST each
		sent     int64 // request body bytes the client sends to dst
		maxReqs  int
		baseGETs int // GETs of each base layer at the source
	}{
		{name: "same repository", dst: src, repo: "base", blobs: len(baseLayers), sent: newBytes, maxReqs: 26},
		{name: "same registry", dst: src, repo: "app", blobs: len(baseLayers), sent: newBytes, maxReqs: 26},
		{name: "other registry", dst: other, repo: "app", sent: newBytes + size(baseLayers...), maxReqs: 70, baseGETs: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src.reset()
			other.reset()
			desc, err := tc.dst.reg.Repository(tc.repo).Push(ctx, img, "2")
			require.NoError(t, err)
			require.Equal(t, img.Descriptor().Digest, desc.Digest)

			srcReqs, dstReqs := src.srv.Requests(), tc.dst.srv.Requests()
			read, wrote := count(srcReqs), count(dstReqs)
			t.Logf("%s: %d requests to the destination, %d bytes sent; %d requests, %d blob bytes read at the source\n%s",
				tc.name, len(dstReqs), tc.dst.sent.sent.Load(), len(srcReqs), read.bytesRead, requestLines(dstReqs))
			for _, l := range baseLayers {
				require.Equal(t, tc.baseGETs, read.blobGETs[l.Descriptor().Digest], "GETs of base layer %s", l.Descriptor().Digest)
			}
			require.Equal(t, int64(tc.baseGETs)*size(baseLayers...), read.bytesRead)
			require.Equal(t, tc.sent, tc.dst.sent.sent.Load(), "request body bytes")
			// A push checks for each blob with a mount POST, from the
			// repository itself or from the base's: the log (no query)
			// cannot tell them apart, but every blob is there after one.
			require.Equal(t, tc.blobs, wrote.mounts, "blobs found or mounted with one POST")
			require.LessOrEqual(t, len(dstReqs), tc.maxReqs)

			got, err := tc.dst.reg.Repository(tc.repo).Tag("2").Image(ctx)
			require.NoError(t, err)
			requireLayers(ctx, t, got, img)
		})
	}
}

// requireLayers checks that got's layers have want's digests and can be
// read back to the end.
func requireLayers(ctx context.Context, t *testing.T, got, want *image.Image) {
	t.Helper()
	require.Len(t, got.Layers(), len(want.Layers()))
	for i, l := range got.Layers() {
		require.Equal(t, want.Layers()[i].Descriptor().Digest, l.Descriptor().Digest)
		rc, err := l.Open(ctx)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}
}

// gets counts the blob reads of a transport, by digest, and its mounts.
type gets struct {
	transport.Transport
	mu     sync.Mutex
	n      map[digest.Digest]int
	mounts int
}

func countGets(t transport.Transport) *gets { return &gets{Transport: t, n: map[digest.Digest]int{}} }

func (g *gets) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	g.mu.Lock()
	g.n[d]++
	g.mu.Unlock()
	return g.Transport.GetBlob(ctx, repo, d)
}

func (g *gets) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	g.mu.Lock()
	g.mounts++
	g.mu.Unlock()
	return g.Transport.MountBlob(ctx, repo, from, d)
}

// TestAppendPushInProcess pulls a base from the in-memory fake and from an
// OCI layout on disk: pushed to another repository of the same store, its
// layers are mounted, never read; pushed to another store, each is read
// once.
func TestAppendPushInProcess(t *testing.T) {
	ctx := t.Context()
	layout, err := ocilayout.NewStore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { layout.Close() })
	stores := []struct {
		name string
		t    transport.Transport
	}{
		{"fake", fake.NewStore()},
		{"ocilayout", layout},
	}
	b := base(t, "arm64", 5)
	app := tgz(t, "app", "binary")
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			g := countGets(st.t)
			_, err := repository.New(g, "base").Push(ctx, b, "1")
			require.NoError(t, err)
			pulled, err := repository.New(g, "base").Tag("1").Image(ctx)
			require.NoError(t, err)
			img, err := mutate.Append(ctx, pulled, []mutate.Layer{app}, nil)
			require.NoError(t, err)

			_, err = repository.New(g, "app").Push(ctx, img, "1")
			require.NoError(t, err)
			for _, l := range b.Layers() {
				require.Zero(t, g.n[l.Descriptor().Digest], "same store: base layer read")
			}
			require.Equal(t, len(b.Layers()), g.mounts)

			dst := countGets(fake.NewStore())
			_, err = repository.New(dst, "app").Push(ctx, img, "1")
			require.NoError(t, err)
			for _, l := range b.Layers() {
				require.Equal(t, 1, g.n[l.Descriptor().Digest], "other store: base layer read once")
			}
			require.Zero(t, dst.mounts)
			got, err := repository.New(dst, "app").Tag("1").Image(ctx)
			require.NoError(t, err)
			requireLayers(ctx, t, got, img)
		})
	}
}
