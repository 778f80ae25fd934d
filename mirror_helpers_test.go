package regkit_test

import (
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/repository"
)

// sharedImage builds an image of base layers every sharedImage has (the
// same bytes for every own) and one layer of its own, whose bytes depend
// on own, as the images of one application's releases are.
func sharedImage(t testing.TB, own string, base int) *image.Image {
	t.Helper()
	contents := make([][]byte, 0, base+1)
	for i := range base {
		contents = append(contents, fmt.Appendf(nil, "base layer %d", i))
	}
	contents = append(contents, []byte("own layer of "+own))
	img, err := testimage.Image(ocispec.Platform{OS: "linux", Architecture: "amd64"},
		ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayer, contents, map[string]string{"name": own}, nil)
	require.NoError(t, err)
	return img
}

// seedTags pushes one sharedImage (of base base layers) per tag to repo.
func seedTags(t testing.TB, repo *repository.Repository, base int, tags ...string) map[string]ocispec.Descriptor {
	t.Helper()
	got := map[string]ocispec.Descriptor{}
	for _, tg := range tags {
		desc, err := repo.Push(t.Context(), sharedImage(t, tg, base), tg)
		require.NoError(t, err)
		got[tg] = desc
	}
	return got
}

// tagsOf returns the tags of repo, fallback tags included.
func tagsOf(t testing.TB, repo *repository.Repository) []string {
	t.Helper()
	var tags []string
	for name, err := range repo.Tags(t.Context(), nil) {
		require.NoError(t, err)
		tags = append(tags, name)
	}
	return tags
}

// actions returns the action of each tag of a report, by tag.
func actions(rep *regkit.MirrorReport) map[string]regkit.MirrorAction {
	got := map[string]regkit.MirrorAction{}
	for _, t := range rep.Tags {
		got[t.Tag] = t.Action
	}
	return got
}
