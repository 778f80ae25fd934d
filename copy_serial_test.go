package regkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
)

// TestCopySerialServer streams blobs between two repositories of one
// registry that serves one request at a time and refuses cross-repository
// mounts: the source's GET must be answered before the destination's PUT
// holds the server, or the copy waits forever (here: fails at its
// deadline).
func TestCopySerialServer(t *testing.T) {
	t.Parallel()
	srv := fake.Serve(t, fake.WithProfile(fake.ProfileHarbor, fake.ProfileSerial))
	reg, err := registry.New(srv.Host)
	require.NoError(t, err)
	src, dst := reg.Repository("team-a/app"), reg.Repository("team-b/app")
	img := testImage(t, "app", "linux/amd64", 3, false)
	desc, err := src.Push(t.Context(), img, "3.0")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rep, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	require.Equal(t, 4, rep.Count(regkit.Copied)-1, "config and layers streamed, plus the manifest")
	requireSameManifest(t, src, dst, desc.Digest)
	requireBlobs(t, dst, img)

	// A blob the destination has is still never read from the source.
	srv.ResetRequests()
	again, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	require.Zero(t, again.Bytes())
	require.Zero(t, blobRequests(srv.Requests()), "no blob bytes moved:\n%s", requestLines(srv.Requests()))
}
