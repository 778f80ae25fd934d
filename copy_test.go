package regkit_test

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

func TestCopyMemory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sameStore bool
		docker    bool
		byDigest  bool
		tags      []string
		wantTags  []string
		wantBlobs regkit.CopyAction
	}{
		{name: "same store, source tag", sameStore: true, wantTags: []string{"3.0"}, wantBlobs: regkit.Mounted},
		{name: "other store, source tag", wantTags: []string{"3.0"}, wantBlobs: regkit.Copied},
		{name: "other store, by digest", byDigest: true, wantBlobs: regkit.Copied},
		{name: "by digest with tags", byDigest: true, tags: []string{"1.0", "latest"}, wantTags: []string{"1.0", "latest"}, wantBlobs: regkit.Copied},
		{name: "tag with other tags", tags: []string{"stable", "latest"}, wantTags: []string{"stable", "latest"}, wantBlobs: regkit.Copied},
		{name: "tag with no tags", tags: []string{}, wantBlobs: regkit.Copied},
		{name: "docker schema 2", docker: true, wantTags: []string{"3.0"}, wantBlobs: regkit.Copied},
		{name: "docker schema 2, same store", docker: true, sameStore: true, wantTags: []string{"3.0"}, wantBlobs: regkit.Mounted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srcReg, dstReg := fake.New(), fake.New()
			if tc.sameStore {
				dstReg = srcReg
			}
			src, dst := srcReg.Repository("app"), dstReg.Repository("prod/app")
			img := testImage(t, "app", "linux/amd64", 3, tc.docker)
			desc, err := src.Push(ctx, img, "3.0")
			require.NoError(t, err)

			ref := "3.0"
			if tc.byDigest {
				ref = desc.Digest.String()
			}
			rep, err := regkit.Copy(ctx, src, ref, dst, &regkit.CopyOptions{Tags: tc.tags})
			require.NoError(t, err)

			require.Equal(t, desc.Digest, rep.Descriptor.Digest)
			require.Equal(t, desc.MediaType, rep.Descriptor.MediaType)
			require.Equal(t, tc.wantTags, nilIfEmpty(rep.Tags))
			requireSameManifest(t, src, dst, desc.Digest)
			requireBlobs(t, dst, img)
			for _, tag := range tc.wantTags {
				got, err := dst.Resolve(ctx, tag)
				require.NoError(t, err)
				require.Equal(t, desc.Digest, got.Digest, "tag %s", tag)
			}
			var tags []string
			for name, err := range dst.Tags(ctx, nil) {
				require.NoError(t, err)
				tags = append(tags, name)
			}
			require.ElementsMatch(t, tc.wantTags, tags, "no other tag in dst")

			require.Len(t, rep.Manifests, 1)
			require.Equal(t, regkit.Copied, rep.Manifests[0].Action)
			require.Equal(t, desc.Size, rep.Manifests[0].Bytes)
			require.Len(t, rep.Blobs, len(img.Blobs()))
			for _, b := range rep.Blobs {
				require.Equal(t, tc.wantBlobs, b.Action)
			}
			wantBytes := desc.Size
			if tc.wantBlobs == regkit.Copied {
				wantBytes += blobSizes(img)
			}
			require.Equal(t, wantBytes, rep.Bytes())

			// Copying again finds everything in place.
			again, err := regkit.Copy(ctx, src, ref, dst, &regkit.CopyOptions{Tags: tc.tags})
			require.NoError(t, err)
			require.Equal(t, 1, again.Count(regkit.Skipped))
			require.Zero(t, again.Bytes())
			require.Empty(t, again.Blobs)
		})
	}
}

// manifests counts the manifests of rep with action a.
func manifests(rep *regkit.CopyReport, a regkit.CopyAction) int {
	n := 0
	for _, m := range rep.Manifests {
		if m.Action == a {
			n++
		}
	}
	return n
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// pushPlatforms pushes images for linux/amd64, linux/arm64/v8 and
// linux/arm/v7 and an index of them tagged 3.0, OCI or Docker.
func pushPlatforms(t *testing.T, repo *repository.Repository, docker bool) (*image.Index, []*image.Image) {
	t.Helper()
	ctx := t.Context()
	var imgs []*image.Image
	for _, p := range []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"} {
		img := testImage(t, "app", p, 2, docker)
		_, err := repo.Push(ctx, img)
		require.NoError(t, err)
		imgs = append(imgs, img)
	}
	var opts *image.Options
	if docker {
		opts = &image.Options{MediaType: image.MediaTypeDockerManifestList}
	} else {
		opts = &image.Options{Annotations: map[string]string{"org.opencontainers.image.version": "3.0"}}
	}
	ix, err := image.IndexOf(ctx, imgs, opts)
	require.NoError(t, err)
	_, err = repo.PushIndex(ctx, ix, "3.0")
	require.NoError(t, err)
	return ix, imgs
}

func TestCopyPlatforms(t *testing.T) {
	t.Parallel()
	amd64 := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	armv7 := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	tests := []struct {
		name      string
		docker    bool
		platforms []ocispec.Platform
		want      []int // images of the copy, by position in the source index
		newIndex  bool
	}{
		{name: "all", want: []int{0, 1, 2}},
		{name: "all, docker list", docker: true, want: []int{0, 1, 2}},
		{name: "one", platforms: []ocispec.Platform{arm64}, want: []int{1}},
		{name: "one named twice", platforms: []ocispec.Platform{arm64, {OS: "linux", Architecture: "aarch64"}}, want: []int{1}},
		{name: "two, in index order", platforms: []ocispec.Platform{armv7, amd64}, want: []int{0, 2}, newIndex: true},
		{name: "two, docker list", docker: true, platforms: []ocispec.Platform{amd64, armv7}, want: []int{0, 2}, newIndex: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			src, dst := fake.New().Repository("app"), fake.New().Repository("prod/app")
			ix, imgs := pushPlatforms(t, src, tc.docker)

			rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Platforms: tc.platforms})
			require.NoError(t, err)

			tagged, err := dst.Resolve(ctx, "3.0")
			require.NoError(t, err)
			require.Equal(t, rep.Descriptor.Digest, tagged.Digest)
			for _, i := range tc.want {
				requireSameManifest(t, src, dst, imgs[i].Descriptor().Digest)
				requireBlobs(t, dst, imgs[i])
			}
			copied := map[string]bool{}
			for _, m := range rep.Manifests {
				copied[m.Descriptor.Digest.String()] = true
			}
			for i, img := range imgs {
				want := false
				for _, j := range tc.want {
					want = want || i == j
				}
				require.Equal(t, want, copied[img.Descriptor().Digest.String()], "image %d copied", i)
			}

			switch {
			case len(tc.want) == 1:
				require.Equal(t, imgs[tc.want[0]].Descriptor().Digest, rep.Descriptor.Digest, "the image itself, digest unchanged")
				require.Len(t, rep.Manifests, 1)
			case !tc.newIndex:
				require.Equal(t, ix.Descriptor().Digest, rep.Descriptor.Digest)
				requireSameManifest(t, src, dst, ix.Descriptor().Digest)
				require.Len(t, rep.Manifests, 4)
				require.Equal(t, ix.Descriptor().Digest, rep.Manifests[3].Descriptor.Digest, "the index comes last")
			default:
				require.NotEqual(t, ix.Descriptor().Digest, rep.Descriptor.Digest)
				sub, err := dst.Index(ctx, rep.Descriptor.Digest)
				require.NoError(t, err)
				require.Equal(t, ix.Descriptor().MediaType, sub.Descriptor().MediaType)
				require.Equal(t, ix.Index().Annotations, sub.Index().Annotations)
				var got []string
				for _, d := range sub.Manifests() {
					got = append(got, image.FormatPlatform(*d.Platform))
				}
				var want []string
				for _, i := range tc.want {
					want = append(want, image.FormatPlatform(*ix.Manifests()[i].Platform))
				}
				require.Equal(t, want, got)
			}
		})
	}
}

func TestCopyMissingPlatform(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	out := fake.New()
	src, dst := fake.New().Repository("app"), out.Repository("prod/app")
	pushPlatforms(t, src, false)

	_, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{
		Platforms: []ocispec.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "s390x"}},
	})
	require.ErrorIs(t, err, image.ErrNoPlatform)
	var pe *image.PlatformError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Have, 3)
	require.Contains(t, err.Error(), "linux/amd64, linux/arm64/v8, linux/arm/v7")
	require.Contains(t, err.Error(), "copy app:3.0 to prod/app")
	requireNoTag(t, dst, "3.0")
	require.Zero(t, out.Store.BlobCount(), "nothing written")
}

func TestCopyReferrers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		referrers bool
		index     bool
	}{
		{name: "image with referrers", referrers: true},
		{name: "image without referrers"},
		{name: "index with referrers of an image it lists", referrers: true, index: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			src, dst := fake.New().Repository("app"), fake.New().Repository("prod/app")
			img := testImage(t, "app", "linux/amd64", 2, false)
			subject, err := src.Push(ctx, img, "3.0")
			require.NoError(t, err)
			if tc.index {
				ix, err := image.IndexOf(ctx, []*image.Image{img}, nil)
				require.NoError(t, err)
				_, err = src.PushIndex(ctx, ix, "3.0")
				require.NoError(t, err)
			}
			sbom := artifact(t, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`, subject)
			_, err = src.Push(ctx, sbom)
			require.NoError(t, err)
			sig := artifact(t, "application/vnd.dev.cosign.artifact.sig.v1+json", "signature of the sbom", sbom.Descriptor())
			_, err = src.Push(ctx, sig)
			require.NoError(t, err)

			rep, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Referrers: tc.referrers})
			require.NoError(t, err)

			refs := func(d ocispec.Descriptor) []string {
				var out []string
				for r, err := range dst.Referrers(ctx, d.Digest, nil) {
					require.NoError(t, err)
					out = append(out, r.Digest.String())
				}
				return out
			}
			if !tc.referrers {
				require.Empty(t, refs(subject))
				require.Len(t, rep.Manifests, 1)
				return
			}
			require.Equal(t, []string{sbom.Descriptor().Digest.String()}, refs(subject))
			require.Equal(t, []string{sig.Descriptor().Digest.String()}, refs(sbom.Descriptor()))
			requireSameManifest(t, src, dst, sig.Descriptor().Digest)
			requireBlobs(t, dst, sig)
			n := len(rep.Manifests)
			require.Equal(t, sbom.Descriptor().Digest, rep.Manifests[n-2].Descriptor.Digest, "the sbom after its subject")
			require.Equal(t, sig.Descriptor().Digest, rep.Manifests[n-1].Descriptor.Digest, "the signature after the sbom")
			require.Equal(t, n, manifests(rep, regkit.Copied))

			// A signature added later is copied on the next run; what is
			// there already is not.
			sig2 := artifact(t, "application/vnd.dev.cosign.artifact.sig.v1+json", "second signature", subject)
			_, err = src.Push(ctx, sig2)
			require.NoError(t, err)
			again, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Referrers: true})
			require.NoError(t, err)
			require.Equal(t, 1, manifests(again, regkit.Copied), "only the new signature")
			require.Equal(t, len(rep.Manifests), manifests(again, regkit.Skipped), "the rest was there")
			require.ElementsMatch(t, []string{sbom.Descriptor().Digest.String(), sig2.Descriptor().Digest.String()}, refs(subject))
		})
	}
}

func TestCopyBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	reg := fake.New()
	src := reg.Repository("app")
	_, err := src.Push(ctx, testImage(t, "app", "linux/amd64", 1, false), "3.0")
	require.NoError(t, err)
	out := fake.New()
	tests := []struct {
		name     string
		src, dst *repository.Repository
		ref      string
		opts     *regkit.CopyOptions
		want     error
		contains string
	}{
		{name: "nil source", dst: out.Repository("prod/app"), ref: "3.0", contains: "must not be nil"},
		{name: "nil destination", src: src, ref: "3.0", contains: "must not be nil"},
		{name: "invalid ref", src: src, dst: out.Repository("prod/app"), ref: "bad ref!", want: transport.ErrTagInvalid},
		{name: "invalid digest", src: src, dst: out.Repository("prod/app"), ref: "sha256:xyz", want: transport.ErrDigestInvalid, contains: `copy app to prod/app: digest invalid: digest "sha256:xyz": `},
		{name: "invalid target tag", src: src, dst: out.Repository("prod/app"), ref: "3.0", opts: &regkit.CopyOptions{Tags: []string{"ok", "-bad"}}, want: transport.ErrTagInvalid, contains: `"-bad"`},
		{name: "invalid destination name", src: src, dst: out.Repository("Prod/App"), ref: "3.0", want: transport.ErrNameInvalid},
		{name: "platform without arch", src: src, dst: out.Repository("prod/app"), ref: "3.0", opts: &regkit.CopyOptions{Platforms: []ocispec.Platform{{OS: "linux"}}}, want: image.ErrInvalidPlatform},
		{name: "unknown tag", src: src, dst: out.Repository("prod/app"), ref: "4.0", want: transport.ErrManifestUnknown, contains: "copy app:4.0 to prod/app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := regkit.Copy(ctx, tc.src, tc.ref, tc.dst, tc.opts)
			require.Error(t, err)
			require.Nil(t, rep)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			require.Contains(t, err.Error(), tc.contains)
		})
	}
	require.Zero(t, out.Store.BlobCount(), "nothing written")
}

func TestCopyActionString(t *testing.T) {
	t.Parallel()
	for a, want := range map[regkit.CopyAction]string{
		regkit.Copied: "copied", regkit.Mounted: "mounted", regkit.Skipped: "skipped",
		regkit.WouldCopy: "would copy", regkit.WouldMount: "would mount", 0: "unknown",
	} {
		require.Equal(t, want, a.String())
	}
}

// TestCopyTagsPresentTarget tags a manifest dst already has: tags that
// point elsewhere move, tags that point at it stay, and the manifest is
// read only for the tags to put.
func TestCopyTagsPresentTarget(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src, dst := fake.New().Repository("app"), fake.New().Repository("prod/app")
	ix, imgs := pushPlatforms(t, src, false)
	arm64 := []ocispec.Platform{{OS: "linux", Architecture: "arm64"}}
	ref := ix.Descriptor().Digest.String()

	rep, err := regkit.Copy(ctx, src, ref, dst, &regkit.CopyOptions{Platforms: arm64})
	require.NoError(t, err)
	require.Empty(t, rep.Tags, "by digest: no tag")
	other, err := dst.Push(ctx, imgs[0], "stable")
	require.NoError(t, err)

	rep, err = regkit.Copy(ctx, src, ref, dst, &regkit.CopyOptions{Platforms: arm64, Tags: []string{"3.0", "stable"}})
	require.NoError(t, err)
	require.Equal(t, []regkit.CopyItem{{Descriptor: rep.Descriptor, Action: regkit.Skipped}}, rep.Manifests)
	for _, tag := range []string{"3.0", "stable"} {
		got, err := dst.Resolve(ctx, tag)
		require.NoError(t, err)
		require.Equal(t, imgs[1].Descriptor().Digest, got.Digest, "tag %s", tag)
	}
	require.NotEqual(t, other.Digest, imgs[1].Descriptor().Digest)

	// Platforms do not apply to a single image, copied as it is.
	rep, err = regkit.Copy(ctx, src, imgs[2].Descriptor().Digest.String(), dst, &regkit.CopyOptions{Platforms: arm64})
	require.NoError(t, err)
	require.Equal(t, imgs[2].Descriptor().Digest, rep.Descriptor.Digest)
}
