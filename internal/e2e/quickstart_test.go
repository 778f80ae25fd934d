package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
)

// TestQuickstartFlow runs the quickstart's flow (myapp1 … myapp3, versions
// 1.0, 2.0 and 3.0 of myapp1, latest moved from 2.0 to 3.0) against the fake
// over HTTP and against docker-registry.
func TestQuickstartFlow(t *testing.T) {
	targets := []struct {
		name string
		host func(t *testing.T) string
	}{
		{"fake over HTTP", func(t *testing.T) string { return fake.Serve(t).Host }},
		{"docker-registry", func(t *testing.T) string { return regtest.Distribution(t, "") }},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			reg, err := registry.New(tc.host(t))
			require.NoError(t, err)

			for i := 1; i <= 3; i++ {
				name := fmt.Sprintf("myapp%d", i)
				_, err := reg.Repository(name).Push(ctx, appImage(t, name, "1.0", 1), "1.0")
				require.NoError(t, err)
			}
			repo := reg.Repository("myapp1")
			v2, err := repo.Push(ctx, appImage(t, "myapp1", "2.0", 2), "2.0", "latest")
			require.NoError(t, err)
			img3 := appImage(t, "myapp1", "3.0", 2)
			v3, err := repo.Push(ctx, img3, "3.0")
			require.NoError(t, err)
			require.NotEqual(t, v2.Digest, v3.Digest)

			require.NoError(t, repo.Tag("latest").Point(ctx, v3))
			latest, err := repo.Tag("latest").Resolve(ctx)
			require.NoError(t, err)
			require.Equal(t, v3.Digest, latest.Digest, "latest after the move")

			var tags []string
			for name, err := range repo.Tags(ctx, nil) {
				require.NoError(t, err)
				tags = append(tags, name)
			}
			require.Equal(t, []string{"1.0", "2.0", "3.0", "latest"}, tags)

			var repos []string
			for name, err := range reg.Repositories(ctx, nil) {
				require.NoError(t, err)
				repos = append(repos, name)
			}
			require.Subset(t, repos, []string{"myapp1", "myapp2", "myapp3"})
			require.True(t, slices.IsSorted(repos), "catalog in lexical order: %v", repos)

			pulled, err := repo.Tag("latest").Image(ctx)
			require.NoError(t, err)
			require.Equal(t, img3.Raw(), pulled.Raw())
			for i, b := range pulled.Layers() {
				rc, err := b.Open(ctx)
				require.NoError(t, err)
				got, err := readAllClose(rc)
				require.NoError(t, err, "layer %d verifies", i)
				want, err := readAllCloseBlob(t, img3.Layers()[i])
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
		})
	}
}
