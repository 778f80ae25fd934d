package regkit_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// metered is the decorator a user plugs into the seam first: it measures
// the blob uploads in flight and passes every call on to the transport it
// embeds. It has no Unwrap method, so it hides the optional interfaces of
// that transport (see [unwrapping]).
type metered struct {
	transport.Transport
	inFlight, peak atomic.Int32
}

// PutBlob counts the upload while it runs.
func (m *metered) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	n := m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	for p := m.peak.Load(); n > p && !m.peak.CompareAndSwap(p, n); p = m.peak.Load() {
	}
	return m.Transport.PutBlob(ctx, repo, desc, r)
}

// unwrapping is metered with the Unwrap method the transport package asks
// decorators for, through which transport.Find reaches the client's
// retries, limiter, tag deletion and origin.
type unwrapping struct{ *metered }

// Unwrap returns the decorated transport.
func (u unwrapping) Unwrap() transport.Transport { return u.Transport }

// TestDecoratedClientKeepsItsCapabilities wraps the HTTP client of a fake
// registry in a decorator, and shows that with Unwrap, push and copy through
// it still retry a blob upload the registry answered 503, honour the
// client's limit of concurrent transfers, delete a tag where the registry
// has no tag DELETE, and mount blobs within one registry; and that without
// Unwrap each of these is lost (a struct embedding a Transport hides the
// methods of the value it embeds that the Transport interface lacks).
func TestDecoratedClientKeepsItsCapabilities(t *testing.T) {
	t.Parallel()
	decorators := []struct {
		name string
		wrap func(c transport.Transport) (transport.Transport, *metered)
		kept bool
	}{
		{"with Unwrap", func(c transport.Transport) (transport.Transport, *metered) {
			m := &metered{Transport: c}
			return unwrapping{m}, m
		}, true},
		{"without Unwrap", func(c transport.Transport) (transport.Transport, *metered) {
			m := &metered{Transport: c}
			return m, m
		}, false},
	}
	// client returns the HTTP client of srv, with opts.
	client := func(t *testing.T, srv *fake.Server, opts ...remote.Option) transport.Transport {
		reg, err := registry.New(srv.Host, registry.WithClientOptions(opts...))
		require.NoError(t, err)
		return reg.Transport()
	}
	for _, dc := range decorators {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()

			t.Run("retry", func(t *testing.T) {
				t.Parallel()
				srv := fake.Serve(t, fake.WithFaults(fake.FailWith(http.StatusServiceUnavailable).On(http.MethodPut, fake.RouteUpload).Times(1)))
				dt, _ := dc.wrap(client(t, srv))
				_, err := registry.FromTransport(dt).Repository("app").Push(t.Context(), testImage(t, "app", "linux/amd64", 3, false), "1")
				if dc.kept {
					require.NoError(t, err, "the upload answered 503 is started again")
				} else {
					require.ErrorContains(t, err, "503", "no Retrier found: the upload is not started again")
				}
			})

			t.Run("limiter", func(t *testing.T) {
				t.Parallel()
				srv := fake.Serve(t, fake.WithFaults(fake.Delay(50*time.Millisecond).On(http.MethodPut, fake.RouteUpload)))
				dt, m := dc.wrap(client(t, srv, remote.WithMaxConcurrency(1)))
				_, err := registry.FromTransport(dt).Repository("app").Push(t.Context(), testImage(t, "app", "linux/amd64", 6, false), "1")
				require.NoError(t, err)
				if dc.kept {
					require.EqualValues(t, 1, m.peak.Load(), "WithMaxConcurrency(1): one upload at a time")
				} else {
					require.Greater(t, m.peak.Load(), int32(1), "no Limiter found: the uploads run in parallel")
				}
			})

			t.Run("tag deletion", func(t *testing.T) {
				t.Parallel()
				// The registry refuses the tag DELETE, as registries without
				// one do; the client then deletes the tag by placeholder.
				srv := fake.Serve(t, fake.WithFaults(fake.FailWith(http.StatusMethodNotAllowed).On(http.MethodDelete, fake.RouteManifest).Times(1)))
				dt, _ := dc.wrap(client(t, srv))
				repo := registry.FromTransport(dt).Repository("app")
				desc, err := repo.Push(t.Context(), testImage(t, "app", "linux/amd64", 1, false), "1")
				require.NoError(t, err)
				how, err := repo.Tag("1").Delete(t.Context())
				if !dc.kept {
					require.Error(t, err, "no TagDeleter found: the refused DELETE is the answer")
					return
				}
				require.NoError(t, err)
				require.Equal(t, transport.TagDeletedByPlaceholder, how)
				requireNoTag(t, repo, "1")
				_, err = repo.Resolve(t.Context(), desc.Digest.String())
				require.NoError(t, err, "the manifest stays")
			})

			t.Run("mount in copy", func(t *testing.T) {
				t.Parallel()
				srv := fake.Serve(t)
				c := client(t, srv)
				img := testImage(t, "app", "linux/amd64", 4, false)
				_, err := registry.FromTransport(c).Repository("app").Push(t.Context(), img, "1")
				require.NoError(t, err)
				// Two decorators of one client, as two program parts make.
				from, _ := dc.wrap(c)
				to, _ := dc.wrap(c)
				srv.ResetRequests()
				rep, err := regkit.Copy(t.Context(), registry.FromTransport(from).Repository("app"), "1",
					registry.FromTransport(to).Repository("prod/app"), nil)
				require.NoError(t, err)
				reqs := srv.Requests()
				if dc.kept {
					require.Zero(t, blobRequests(reqs), "one registry: blobs are mounted\n%s", requestLines(reqs))
					require.Equal(t, 5, rep.Count(regkit.Mounted))
				} else {
					require.Positive(t, blobRequests(reqs), "no Originer found: each blob is read and uploaded\n%s", requestLines(reqs))
					require.Zero(t, rep.Count(regkit.Mounted))
				}
				requireBlobs(t, registry.FromTransport(c).Repository("prod/app"), img)
			})
		})
	}
}

// TestCopyMountsUnderADecoratorOfOneStore copies within one in-memory
// store, which has no origin, through decorators: under their Unwrap
// chains the transports are the same, so blobs are mounted. Without
// Unwrap a decorator is another transport, and blobs are copied.
func TestCopyMountsUnderADecoratorOfOneStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		src, dst    func(s transport.Transport) transport.Transport
		wantMounted int
	}{
		{"store to store", func(s transport.Transport) transport.Transport { return s },
			func(s transport.Transport) transport.Transport { return s }, 3},
		{"store to a decorator of it", func(s transport.Transport) transport.Transport { return s },
			func(s transport.Transport) transport.Transport { return unwrapping{&metered{Transport: s}} }, 3},
		{"two decorators of it", func(s transport.Transport) transport.Transport { return unwrapping{&metered{Transport: s}} },
			func(s transport.Transport) transport.Transport { return unwrapping{&metered{Transport: s}} }, 3},
		{"a decorator without Unwrap", func(s transport.Transport) transport.Transport { return s },
			func(s transport.Transport) transport.Transport { return &metered{Transport: s} }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := fake.New().Store
			img := testImage(t, "app", "linux/amd64", 2, false)
			_, err := registry.FromTransport(store).Repository("app").Push(t.Context(), img, "1")
			require.NoError(t, err)
			rep, err := regkit.Copy(t.Context(), registry.FromTransport(tc.src(store)).Repository("app"), "1",
				registry.FromTransport(tc.dst(store)).Repository("prod/app"), nil)
			require.NoError(t, err)
			require.Equal(t, tc.wantMounted, rep.Count(regkit.Mounted))
			requireBlobs(t, registry.FromTransport(store).Repository("prod/app"), img)
		})
	}
}
