package regkit_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// fallbackTag is a referrers fallback tag, as clients make on registries
// without the referrers API.
var fallbackTag = "sha256-" + digest.FromString("some subject").Encoded()

// TestMirror mirrors a repository of release tags, latest, and a
// referrers fallback tag, in memory and to an OCI layout, with each
// selection: the report names the tags mirrored, dst has exactly those,
// at the source's digests, and a second run finds them all up to date.
func TestMirror(t *testing.T) {
	t.Parallel()
	all := []string{"1.0", "1.1", "1.2.0-rc.1", "2.0", "latest", "v1.5.3"}
	for _, tc := range []struct {
		name       string
		opts       *regkit.MirrorOptions
		disk       bool
		want       []string
		unselected []string
	}{
		{name: "all", want: all},
		{name: "all to an OCI layout", disk: true, want: all},
		{name: "filter", opts: &regkit.MirrorOptions{Tags: func(s string) bool { return strings.HasPrefix(s, "1.") }},
			want: []string{"1.0", "1.1", "1.2.0-rc.1"}, unselected: []string{"2.0", "latest", "v1.5.3"}},
		{name: "constraint", opts: &regkit.MirrorOptions{Versions: ">=1.1, <2.0"},
			want: []string{"1.1", "1.2.0-rc.1", "v1.5.3"}, unselected: []string{"1.0", "2.0", "latest"}},
		{name: "constraint without prereleases", opts: &regkit.MirrorOptions{Versions: ">=1.1, <2.0, !=1.2.0-rc.1"},
			want: []string{"1.1", "v1.5.3"}, unselected: []string{"1.0", "1.2.0-rc.1", "2.0", "latest"}},
		{name: "filter and constraint", opts: &regkit.MirrorOptions{Versions: ">=1", Tags: func(s string) bool { return !strings.HasPrefix(s, "v") }},
			want: []string{"1.0", "1.1", "1.2.0-rc.1", "2.0"}, unselected: []string{"latest", "v1.5.3"}},
		{name: "one at a time", opts: &regkit.MirrorOptions{Concurrency: 1}, want: all},
		{name: "without referrers", opts: &regkit.MirrorOptions{NoReferrers: true}, want: all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			src := fake.New().Repository("app")
			descs := seedTags(t, src, 3, all...)
			// A fallback tag, which must not be mirrored as a tag.
			_, err := src.Push(ctx, sharedImage(t, "fallback", 0), fallbackTag)
			require.NoError(t, err)
			var dst *repository.Repository
			if tc.disk {
				disk, err := ocilayout.New(t.TempDir())
				require.NoError(t, err)
				t.Cleanup(func() { disk.Close() })
				dst = disk.Repository("mirror/app")
			} else {
				dst = fake.New().Repository("mirror/app")
			}

			rep, err := regkit.Mirror(ctx, src, dst, tc.opts)
			require.NoError(t, err)
			want := map[string]regkit.MirrorAction{}
			for _, tg := range tc.want {
				want[tg] = regkit.MirrorCopied
			}
			require.Equal(t, want, actions(rep))
			require.Equal(t, tc.unselected, rep.Unselected)
			require.Equal(t, []string{fallbackTag}, rep.Fallback)
			require.Equal(t, tc.want, tagsOf(t, dst), "dst has the tags mirrored, and no fallback tag")
			for _, mt := range rep.Tags {
				require.Equal(t, descs[mt.Tag].Digest, mt.Digest)
				require.NotNil(t, mt.Copy)
				require.NoError(t, mt.Err)
				got, err := dst.Resolve(ctx, mt.Tag)
				require.NoError(t, err)
				require.Equal(t, mt.Digest, got.Digest)
			}
			require.Positive(t, rep.Bytes())

			again, err := regkit.Mirror(ctx, src, dst, tc.opts)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), again.Count(regkit.MirrorUpToDate), "a second run copies nothing")
			require.Zero(t, again.Bytes())
		})
	}
}

// TestMirrorMovedTag mirrors again after a tag moved in the source: only
// that tag is copied; the others are up to date.
func TestMirrorMovedTag(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, dst := fake.New().Repository("app"), fake.New().Repository("app")
	seedTags(t, src, 2, "1.0", "latest")
	_, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	moved, err := src.Push(ctx, sharedImage(t, "1.1", 2), "latest")
	require.NoError(t, err)

	rep, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]regkit.MirrorAction{"1.0": regkit.MirrorUpToDate, "latest": regkit.MirrorCopied}, actions(rep))
	require.Equal(t, 3, rep.Tags[1].Copy.Count(regkit.Copied), "the manifest, config and own layer move")
	require.Equal(t, 2, rep.Tags[1].Copy.Count(regkit.Skipped), "the base layers stay")
	got, err := dst.Resolve(ctx, "latest")
	require.NoError(t, err)
	require.Equal(t, moved.Digest, got.Digest)
}

// TestMirrorReferrers mirrors a tag whose image has an SBOM, which has a
// signature: both come along, unless NoReferrers.
func TestMirrorReferrers(t *testing.T) {
	t.Parallel()
	for _, noReferrers := range []bool{false, true} {
		src, dst := fake.New().Repository("app"), fake.New().Repository("app")
		ctx := t.Context()
		desc := seedTags(t, src, 1, "1.0")["1.0"]
		sbom, err := src.Push(ctx, artifact(t, "application/spdx+json", "sbom", desc))
		require.NoError(t, err)
		sig, err := src.Push(ctx, artifact(t, "application/vnd.dev.cosign.artifact.sig.v1+json", "sig", sbom))
		require.NoError(t, err)

		rep, err := regkit.Mirror(ctx, src, dst, &regkit.MirrorOptions{NoReferrers: noReferrers})
		require.NoError(t, err)
		require.Equal(t, regkit.MirrorCopied, rep.Tags[0].Action)
		for _, d := range []digest.Digest{sbom.Digest, sig.Digest} {
			_, _, err := dst.Manifest(ctx, d)
			if noReferrers {
				require.ErrorIs(t, err, transport.ErrNotFound, "NoReferrers leaves %s alone", d)
			} else {
				require.NoError(t, err, "referrer %s mirrored", d)
			}
		}
		if !noReferrers {
			var got []digest.Digest
			for d, err := range dst.Referrers(ctx, desc.Digest, nil) {
				require.NoError(t, err)
				got = append(got, d.Digest)
			}
			require.Equal(t, []digest.Digest{sbom.Digest}, got)
		}
	}
}

// TestMirrorInvalid refuses bad arguments before any request: the fake's
// request log stays empty.
func TestMirrorInvalid(t *testing.T) {
	t.Parallel()
	srv, reg := serve(t)
	src, dst := reg.Repository("app"), reg.Repository("mirror/app")
	for _, tc := range []struct {
		name     string
		src, dst *repository.Repository
		opts     *regkit.MirrorOptions
		want     string
		typed    bool
	}{
		{name: "nil source", dst: dst, want: "must not be nil"},
		{name: "bad source name", src: reg.Repository("App"), dst: dst, want: "source"},
		{name: "negative concurrency", src: src, dst: dst, opts: &regkit.MirrorOptions{Concurrency: -1}, want: "Concurrency -1"},
		{name: "constraint", src: src, dst: dst, opts: &regkit.MirrorOptions{Versions: ">=1.2 <2"}, want: `version constraint ">=1.2 <2": "1.2 <2" is not a version`, typed: true},
		{name: "tilde", src: src, dst: dst, opts: &regkit.MirrorOptions{Versions: "~1.2"}, want: `"~1.2" is not a version`, typed: true},
		{name: "stray comma", src: src, dst: dst, opts: &regkit.MirrorOptions{Versions: ">=1,"}, want: "empty comparison", typed: true},
	} {
		rep, err := regkit.Mirror(t.Context(), tc.src, tc.dst, tc.opts)
		require.ErrorContains(t, err, tc.want, tc.name)
		require.Nil(t, rep, tc.name)
		var ce *regkit.ConstraintError
		require.Equal(t, tc.typed, errors.As(err, &ce), tc.name)
	}
	require.Empty(t, srv.Requests(), "no request")
}

// TestMirrorProgress mirrors with an observer in the context: each copy
// reports to it, as Copy does, for the destination; a shared layer that
// another tag's copy put there reports BlobSkipped.
func TestMirrorProgress(t *testing.T) {
	t.Parallel()
	src, dst := fake.New().Repository("app"), fake.New().Repository("mirror/app")
	seedTags(t, src, 2, "1.0", "1.1", "1.2")
	var mu sync.Mutex
	kinds := map[progress.Kind]int{}
	ctx := progress.With(t.Context(), func(e progress.Event) {
		require.Equal(t, "mirror/app", e.Repository)
		mu.Lock()
		kinds[e.Kind]++
		mu.Unlock()
	})
	_, err := regkit.Mirror(ctx, src, dst, &regkit.MirrorOptions{Concurrency: 1})
	require.NoError(t, err)
	// 3 tags × (config + own layer) + 2 shared layers stream; the shared
	// layers are skipped by the two later copies.
	require.Equal(t, 3, kinds[progress.ManifestDone])
	require.Equal(t, 8, kinds[progress.BlobDone])
	require.Equal(t, 4, kinds[progress.BlobSkipped])
}
