package regkit_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
)

// serve starts a fake registry over HTTP and returns it with a client of it.
func serve(t *testing.T) (*fake.Server, *registry.Registry) {
	t.Helper()
	srv := fake.Serve(t)
	reg, err := registry.New(srv.Host)
	require.NoError(t, err)
	return srv, reg
}

// requestLines formats a request log, one request a line.
func requestLines(reqs []fake.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Method + " " + r.Path + " " + http.StatusText(r.Status) + "\n")
	}
	return b.String()
}

// blobRequests counts the requests of a log that move blob bytes: blob
// GETs, and PATCH or PUT of upload sessions.
func blobRequests(reqs []fake.Request) int {
	n := 0
	for _, r := range reqs {
		switch {
		case r.Method == http.MethodGet && strings.Contains(r.Path, "/blobs/"):
			n++
		case (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.Path, "/blobs/uploads/"):
			n++
		}
	}
	return n
}

// onlyReads reports whether every request of a log is a GET or a HEAD.
func onlyReads(reqs []fake.Request) bool {
	for _, r := range reqs {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return false
		}
	}
	return true
}

// TestCopySameRegistryHTTP copies a 20-layer image to another repository of
// the same registry over HTTP: blobs are mounted, no byte of them moves, and
// the whole copy takes at most 25 requests (issue 7). Copying again costs a
// few requests and moves nothing.
func TestCopySameRegistryHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, reg := serve(t)
	src, dst := reg.Repository("app"), reg.Repository("prod/app")
	img := testImage(t, "app", "linux/amd64", 20, false)
	desc, err := src.Push(ctx, img, "3.0")
	require.NoError(t, err)

	srv.ResetRequests()
	rep, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	reqs := srv.Requests()
	t.Logf("same-registry copy of a 20-layer image: %d requests\n%s", len(reqs), requestLines(reqs))
	require.LessOrEqual(t, len(reqs), 25)
	require.Zero(t, blobRequests(reqs), "no blob bytes moved:\n%s", requestLines(reqs))
	require.Equal(t, 21, rep.Count(regkit.Mounted))
	require.Equal(t, desc.Size, rep.Bytes(), "only the manifest")
	requireSameManifest(t, src, dst, desc.Digest)
	requireBlobs(t, dst, img)
	got, err := dst.Resolve(ctx, "3.0")
	require.NoError(t, err)
	require.Equal(t, desc.Digest, got.Digest)

	srv.ResetRequests()
	again, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	reqs = srv.Requests()
	t.Logf("re-copy: %d requests\n%s", len(reqs), requestLines(reqs))
	require.LessOrEqual(t, len(reqs), 3)
	require.True(t, onlyReads(reqs), "a re-copy writes nothing:\n%s", requestLines(reqs))
	require.Zero(t, again.Bytes())
	require.Equal(t, 1, again.Count(regkit.Skipped))
}

// TestCopySameHostTwoClients copies between repositories reached through
// two clients of one registry host, as a program with one registry.New per
// reference does: blobs are still mounted.
func TestCopySameHostTwoClients(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, reg := serve(t)
	other, err := registry.New(srv.Host)
	require.NoError(t, err)
	src, dst := reg.Repository("app"), other.Repository("prod/app")
	img := testImage(t, "app", "linux/amd64", 3, false)
	desc, err := src.Push(ctx, img, "3.0")
	require.NoError(t, err)

	srv.ResetRequests()
	rep, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Zero(t, blobRequests(reqs), "no blob bytes moved:\n%s", requestLines(reqs))
	require.Equal(t, 4, rep.Count(regkit.Mounted))
	requireSameManifest(t, src, dst, desc.Digest)
}

// TestCopyCrossRegistryHTTP copies between two fake registries over HTTP:
// every blob streams from one to the other, each byte read once.
func TestCopyCrossRegistryHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srcSrv, srcReg := serve(t)
	dstSrv, dstReg := serve(t)
	src, dst := srcReg.Repository("app"), dstReg.Repository("prod/app")
	img := testImage(t, "app", "linux/amd64", 20, false)
	desc, err := src.Push(ctx, img, "3.0")
	require.NoError(t, err)

	srcSrv.ResetRequests()
	rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Tags: []string{"3.0", "latest"}})
	require.NoError(t, err)
	srcReqs, dstReqs := srcSrv.Requests(), dstSrv.Requests()
	t.Logf("cross-registry copy of a 20-layer image: %d requests to the source, %d to the destination\n%s\n%s",
		len(srcReqs), len(dstReqs), requestLines(srcReqs), requestLines(dstReqs))
	require.True(t, onlyReads(srcReqs))
	var served int64
	gets := 0
	for _, r := range srcReqs {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/blobs/") {
			served += r.Bytes
			gets++
		}
	}
	require.Equal(t, 21, gets, "each blob read once")
	require.Equal(t, blobSizes(img), served, "the source served each blob's bytes once")
	require.Equal(t, 21, rep.Count(regkit.Copied)-1)
	require.Equal(t, desc.Size+blobSizes(img), rep.Bytes())
	requireSameManifest(t, src, dst, desc.Digest)
	requireBlobs(t, dst, img)
	for _, tag := range []string{"3.0", "latest"} {
		got, err := dst.Resolve(ctx, tag)
		require.NoError(t, err)
		require.Equal(t, desc.Digest, got.Digest)
	}

	srcSrv.ResetRequests()
	dstSrv.ResetRequests()
	again, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Tags: []string{"3.0", "latest"}})
	require.NoError(t, err)
	srcReqs, dstReqs = srcSrv.Requests(), dstSrv.Requests()
	t.Logf("cross-registry re-copy: %d + %d requests", len(srcReqs), len(dstReqs))
	require.Len(t, srcReqs, 1, "the manifest only")
	require.LessOrEqual(t, len(dstReqs), 3)
	require.True(t, onlyReads(dstReqs))
	require.Zero(t, again.Bytes())
}

// TestCopyDryRunHTTP checks that a dry run only reads, on the same
// registry and across registries, and reports what a copy would do.
func TestCopyDryRunHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		same   bool
		action regkit.CopyAction
	}{
		{name: "same registry", same: true, action: regkit.WouldMount},
		{name: "other registry", action: regkit.WouldCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srcSrv, srcReg := serve(t)
			dstSrv, dstReg := srcSrv, srcReg
			if !tc.same {
				dstSrv, dstReg = serve(t)
			}
			src, dst := srcReg.Repository("app"), dstReg.Repository("prod/app")
			img := testImage(t, "app", "linux/amd64", 3, false)
			desc, err := src.Push(ctx, img, "3.0")
			require.NoError(t, err)
			// dst has the config already.
			require.NoError(t, dst.PushBlob(ctx, img.Config()))

			srcSrv.ResetRequests()
			dstSrv.ResetRequests()
			rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{DryRun: true})
			require.NoError(t, err)
			all := append(srcSrv.Requests(), dstSrv.Requests()...)
			require.True(t, onlyReads(all), "a dry run only reads:\n%s", requestLines(all))
			require.Equal(t, desc.Digest, rep.Descriptor.Digest)
			require.Equal(t, []string{"3.0"}, rep.Tags)
			require.Equal(t, regkit.WouldCopy, rep.Manifests[0].Action)
			require.Equal(t, regkit.Skipped, rep.Blobs[0].Action, "the config is there")
			for _, b := range rep.Blobs[1:] {
				require.Equal(t, tc.action, b.Action)
			}
			want := desc.Size
			if !tc.same {
				want += blobSizes(img) - img.Config().Descriptor().Size
			}
			require.Equal(t, want, rep.Bytes())
			requireNoTag(t, dst, "3.0")
			_, err = dst.Resolve(ctx, desc.Digest.String())
			require.Error(t, err, "no manifest written")
		})
	}
}

// TestCopyTagsLast checks in the request log that the tags are written
// after every blob and manifest, referrers included.
func TestCopyTagsLast(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, srcReg := serve(t)
	dstSrv, dstReg := serve(t)
	src, dst := srcReg.Repository("app"), dstReg.Repository("prod/app")
	subject, err := src.Push(ctx, testImage(t, "app", "linux/amd64", 2, false), "3.0")
	require.NoError(t, err)
	sbom := artifact(t, "application/spdx+json", "{}", subject)
	_, err = src.Push(ctx, sbom)
	require.NoError(t, err)
	_, err = src.Push(ctx, artifact(t, "application/vnd.test.sig", "sig", sbom.Descriptor()))
	require.NoError(t, err)

	tags := []string{"3.0", "latest", "stable"}
	rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Tags: tags, Referrers: true})
	require.NoError(t, err)
	require.Len(t, rep.Manifests, 3)

	reqs := dstSrv.Requests()
	var writes []string
	for _, r := range reqs {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writes = append(writes, r.Method+" "+r.Path)
		}
	}
	n := len(writes)
	require.Greater(t, n, len(tags))
	var last []string
	for _, tag := range tags {
		last = append(last, "PUT /v2/prod/app/manifests/"+tag)
	}
	require.Equal(t, last, writes[n-len(tags):], "the tags come last:\n%s", requestLines(reqs))
	for _, w := range writes[:n-len(tags)] {
		require.False(t, slices.Contains(last, w), "a tag written early: %s", w)
	}
}

// TestCopyIndexHTTP copies a multi-platform index between registries over
// HTTP and checks every manifest arrived unchanged.
func TestCopyIndexHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, srcReg := serve(t)
	_, dstReg := serve(t)
	src, dst := srcReg.Repository("app"), dstReg.Repository("prod/app")
	ix, imgs := pushPlatforms(t, src, true)
	rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Concurrency: 2})
	require.NoError(t, err)
	require.Equal(t, ix.Descriptor().Digest, rep.Descriptor.Digest)
	require.Equal(t, ix.Descriptor().MediaType, rep.Descriptor.MediaType)
	requireSameManifest(t, src, dst, ix.Descriptor().Digest)
	for _, img := range imgs {
		requireSameManifest(t, src, dst, img.Descriptor().Digest)
		requireBlobs(t, dst, img)
	}
}
