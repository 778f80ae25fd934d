package regkit_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// countRequests counts the requests of a log by method and route, as
// "HEAD manifest".
func countRequests(reqs []fake.Request) map[string]int {
	got := map[string]int{}
	for _, r := range reqs {
		got[r.Method+" "+string(r.Route)]++
	}
	return got
}

// TestMirrorDryRunHTTP mirrors in a dry run over HTTP: the report says
// what would be copied, and the destination got only reads.
func TestMirrorDryRunHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, srcReg := serve(t)
	dstSrv, dstReg := serve(t)
	src, dst := srcReg.Repository("app"), dstReg.Repository("app")
	seedTags(t, src, 2, "1.0", "1.1")
	seedTags(t, dst, 2, "1.0") // already there: up to date
	dstSrv.ResetRequests()

	rep, err := regkit.Mirror(ctx, src, dst, &regkit.MirrorOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, map[string]regkit.MirrorAction{"1.0": regkit.MirrorUpToDate, "1.1": regkit.MirrorWouldCopy}, actions(rep))
	require.Equal(t, 2, rep.Tags[1].Copy.Count(regkit.Skipped), "the base layers dst has")
	require.Equal(t, 3, rep.Tags[1].Copy.Count(regkit.WouldCopy), "the manifest, config and own layer")
	require.Positive(t, rep.Bytes())
	require.True(t, onlyReads(dstSrv.Requests()), "a dry run writes nothing:\n%s", requestLines(dstSrv.Requests()))
	require.Equal(t, []string{"1.0"}, tagsOf(t, dst))
}

// TestMirrorFailingTagHTTP fails the manifest PUT of one tag: the other
// tags are mirrored, the report says which failed, and the error names it.
func TestMirrorFailingTagHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, srcReg := serve(t)
	// With one tag at a time, the first manifest PUT is that of tag 1.0.
	dstSrv := fake.Serve(t, fake.WithFaults(fake.FailWith(http.StatusForbidden).On(http.MethodPut, fake.RouteManifest).Times(1)))
	dstReg, err := registry.New(dstSrv.Host)
	require.NoError(t, err)
	src, dst := srcReg.Repository("app"), dstReg.Repository("app")
	seedTags(t, src, 2, "1.0", "1.1", "1.2")

	rep, err := regkit.Mirror(ctx, src, dst, &regkit.MirrorOptions{Concurrency: 1, NoReferrers: true})
	require.ErrorIs(t, err, transport.ErrDenied)
	require.ErrorContains(t, err, "mirror app to app, tag 1.0: ")
	require.NotContains(t, err.Error(), "tag 1.1")
	require.Equal(t, map[string]regkit.MirrorAction{"1.0": regkit.MirrorFailed, "1.1": regkit.MirrorCopied, "1.2": regkit.MirrorCopied}, actions(rep))
	require.ErrorIs(t, rep.Tags[0].Err, transport.ErrDenied)
	require.Nil(t, rep.Tags[0].Copy)
	require.Equal(t, []string{"1.1", "1.2"}, tagsOf(t, dst))

	// The next run copies what failed, and only that.
	again, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]regkit.MirrorAction{"1.0": regkit.MirrorCopied, "1.1": regkit.MirrorUpToDate, "1.2": regkit.MirrorUpToDate}, actions(again))
}

// TestMirrorFallbackTagsHTTP mirrors from a registry without the referrers
// API (ProfileGHCR), where the client keeps the referrers of an image
// under its fallback tag, to another such registry: the fallback tag is
// not mirrored as a tag, the referrer comes with its image, and the
// destination's client writes the destination's fallback tag itself.
func TestMirrorFallbackTagsHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var repos [2]*registry.Registry
	for i := range repos {
		srv := fake.Serve(t, fake.WithProfile(fake.ProfileGHCR))
		reg, err := registry.New(srv.Host)
		require.NoError(t, err)
		repos[i] = reg
	}
	src, dst := repos[0].Repository("app"), repos[1].Repository("app")
	desc := seedTags(t, src, 1, "1.0")["1.0"]
	sbom, err := src.Push(ctx, artifact(t, "application/spdx+json", "sbom", desc))
	require.NoError(t, err)
	fallback := "sha256-" + desc.Digest.Encoded()
	require.Equal(t, []string{"1.0", fallback}, tagsOf(t, src))

	rep, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	require.Equal(t, []string{fallback}, rep.Fallback)
	require.Equal(t, map[string]regkit.MirrorAction{"1.0": regkit.MirrorCopied}, actions(rep))
	var got []string
	for d, err := range dst.Referrers(ctx, desc.Digest, nil) {
		require.NoError(t, err)
		got = append(got, d.Digest.String())
	}
	require.Equal(t, []string{sbom.Digest.String()}, got)
}

// mirrorTags is the number of tags of the request-count test and the
// benchmark, and mirrorBase the number of layers their images share.
const (
	mirrorTags = 50
	mirrorBase = 5
)

// seedMirror starts two fake registries over HTTP and pushes mirrorTags
// images sharing mirrorBase layers to the first.
func seedMirror(tb testing.TB) (srcSrv, dstSrv *fake.Server, src, dst *registry.Registry) {
	tb.Helper()
	srcSrv, dstSrv = fake.Serve(tb), fake.Serve(tb)
	var err error
	src, err = registry.New(srcSrv.Host)
	require.NoError(tb, err)
	dst, err = registry.New(dstSrv.Host)
	require.NoError(tb, err)
	tags := make([]string, mirrorTags)
	for i := range tags {
		tags[i] = fmt.Sprintf("1.%d.0", i)
	}
	seedTags(tb, src.Repository("app"), mirrorBase, tags...)
	return srcSrv, dstSrv, src, dst
}

// TestMirrorRequestCounts pins the requests of a mirror of 50 tags whose
// images share 5 base layers (each image: 5 base layers, 1 layer of its
// own, a config), from one fake registry to another over HTTP.
func TestMirrorRequestCounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srcSrv, dstSrv, srcReg, dstReg := seedMirror(t)
	src, dst := srcReg.Repository("app"), dstReg.Repository("app")
	srcSrv.ResetRequests()

	rep, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	require.Equal(t, mirrorTags, rep.Count(regkit.MirrorCopied))
	srcReqs, dstReqs := srcSrv.Requests(), dstSrv.Requests()
	t.Logf("first run: %d requests to the source %v, %d to the destination %v",
		len(srcReqs), countRequests(srcReqs), len(dstReqs), countRequests(dstReqs))
	// T tags, B shared layers; T×(1 own layer + 1 config) + B blobs in all.
	//   source: 1 tag list + T×(HEAD tag + GET manifest + GET referrers)
	//           + one GET per blob:                 1 + 3T + (B + 2T) = 256
	//   destination: T×(HEAD tag + HEAD manifest by digest + PUT manifest
	//           under the tag) + per blob a POST (a mount from the
	//           repository into itself, answered 202: a new session) and
	//           the PUT of the blob, and the client's one HEAD that
	//           learns what a 202 to such a mount means:
	//                                               3T + 2(B + 2T) + 1 = 361
	// Each shared layer is copied once: the copies of other tags, at the
	// same time or later, know dst has it and ask nothing (without that,
	// every tag spent a POST on each shared layer: 5T requests more).
	const T, B = mirrorTags, mirrorBase
	require.Equal(t, map[string]int{"GET tags": 1, "HEAD manifest": T, "GET manifest": T, "GET referrers": T, "GET blob": B + 2*T},
		countRequests(srcReqs))
	require.Equal(t, map[string]int{"HEAD manifest": 2 * T, "PUT manifest": T, "POST upload": B + 2*T, "PUT upload": B + 2*T, "HEAD blob": 1},
		countRequests(dstReqs))
	require.Equal(t, 617, len(srcReqs)+len(dstReqs))

	srcSrv.ResetRequests()
	dstSrv.ResetRequests()
	again, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	require.Equal(t, mirrorTags, again.Count(regkit.MirrorUpToDate))
	srcReqs, dstReqs = srcSrv.Requests(), dstSrv.Requests()
	t.Logf("second run: %d requests to the source %v, %d to the destination %v",
		len(srcReqs), countRequests(srcReqs), len(dstReqs), countRequests(dstReqs))
	// The second run lists the source's tags (one page), then resolves
	// each tag in the source and in the destination: one HEAD each.
	require.Equal(t, map[string]int{"GET tags": 1, "HEAD manifest": mirrorTags}, countRequests(srcReqs))
	require.Equal(t, map[string]int{"HEAD manifest": mirrorTags}, countRequests(dstReqs))
	require.Equal(t, 101, len(srcReqs)+len(dstReqs), "1 + 2T")
}

// BenchmarkMirror mirrors 50 tags sharing a base from one fake registry to
// another over HTTP, into a fresh destination each time, and reports the
// requests of each mirror (both registries) and of a second run.
func BenchmarkMirror(b *testing.B) {
	var first, second int
	for b.Loop() {
		b.StopTimer()
		srcSrv, dstSrv, srcReg, dstReg := seedMirror(b)
		src, dst := srcReg.Repository("app"), dstReg.Repository("app")
		srcSrv.ResetRequests()
		b.StartTimer()
		if _, err := regkit.Mirror(b.Context(), src, dst, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		first += len(srcSrv.Requests()) + len(dstSrv.Requests())
		srcSrv.ResetRequests()
		dstSrv.ResetRequests()
		if _, err := regkit.Mirror(b.Context(), src, dst, nil); err != nil {
			b.Fatal(err)
		}
		second += len(srcSrv.Requests()) + len(dstSrv.Requests())
		b.StartTimer()
	}
	b.ReportMetric(float64(first)/float64(b.N), "requests/op")
	b.ReportMetric(float64(second)/float64(b.N), "rerun-requests/op")
}
