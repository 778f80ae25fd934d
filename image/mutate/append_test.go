package mutate_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
)

// TestAppend checks the new image: base's layers then the new one, the
// config with the new diff_id and history entry, the edit applied, keys
// ocispec.Image does not model kept, and no base layer opened.
func TestAppend(t *testing.T) {
	ctx := t.Context()
	b := base(t, "amd64", 3)
	app := tgz(t, "app", "binary")
	img, err := mutate.Append(ctx, unopenable(t, b), []mutate.Layer{app}, func(c *ocispec.Image) error {
		c.Config.Entrypoint = []string{"/app"}
		c.Config.Env = append(c.Config.Env, "MODE=prod")
		return nil
	})
	require.NoError(t, err)

	want := append(b.Layers(), app.Blob)
	got := img.Layers()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Descriptor(), got[i].Descriptor())
	}
	bc, err := b.ConfigFile(ctx)
	require.NoError(t, err)
	c, err := img.ConfigFile(ctx)
	require.NoError(t, err)
	require.Equal(t, append(bc.RootFS.DiffIDs, app.DiffID), c.RootFS.DiffIDs)
	require.Equal(t, append(bc.History, app.History), c.History)
	require.Equal(t, []string{"/app"}, c.Config.Entrypoint)
	require.Equal(t, []string{"PATH=/bin", "MODE=prod"}, c.Config.Env)
	require.Equal(t, "amd64", c.Architecture)
	require.Equal(t, b.Config().Descriptor().MediaType, img.Config().Descriptor().MediaType)

	raw := rawConfig(t, img)
	require.JSONEq(t, `{"Hostname":"b"}`, string(raw["container_config"]))
	var inner map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw["config"], &inner))
	require.JSONEq(t, `{"Test":["CMD","true"]}`, string(inner["Healthcheck"]), "config.Healthcheck kept")
	require.JSONEq(t, `["/app"]`, string(inner["Entrypoint"]))
}

// TestAppendClearsModelledKeys checks that a field the edit clears is gone
// from the new config, not brought back from the base's bytes.
func TestAppendClearsModelledKeys(t *testing.T) {
	img, err := mutate.Append(t.Context(), base(t, "amd64", 1), nil, func(c *ocispec.Image) error {
		c.Config.Env = nil
		return nil
	})
	require.NoError(t, err)
	var inner map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rawConfig(t, img)["config"], &inner))
	require.NotContains(t, inner, "Env")
	require.Contains(t, inner, "Healthcheck")
}

// TestAppendPadsHistory checks that a base without history gets an empty
// entry per layer before the new layer's, so that entries and layers stay
// in step.
func TestAppendPadsHistory(t *testing.T) {
	ctx := t.Context()
	l := tgz(t, "a", "a")
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig,
		[]byte(`{"os":"linux","architecture":"arm64","rootfs":{"type":"layers","diff_ids":["`+l.DiffID+`"]}}`))
	b, err := image.New(cfg, []image.Blob{l.Blob}, nil)
	require.NoError(t, err)
	app := tgz(t, "app", "x")
	img, err := mutate.Append(ctx, b, []mutate.Layer{app}, nil)
	require.NoError(t, err)
	c, err := img.ConfigFile(ctx)
	require.NoError(t, err)
	require.Equal(t, []ocispec.History{{}, app.History}, c.History)
}

// TestAppendErrors checks what Append refuses.
func TestAppendErrors(t *testing.T) {
	ctx := t.Context()
	good := base(t, "amd64", 2)
	app := tgz(t, "app", "x")
	l := tgz(t, "a", "a")
	// A base whose config lies about its layers, as a pulled image may:
	// image.New refuses such a config in memory, so it comes as a blob
	// New does not read.
	lie := image.BytesBlob(ocispec.MediaTypeImageConfig,
		[]byte(`{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}`))
	lying, err := image.New(image.NewBlob(lie.Descriptor(), lie.Open), []image.Blob{l.Blob}, nil)
	require.NoError(t, err)
	art, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")), nil,
		&image.Options{ArtifactType: "application/vnd.example.sbom"})
	require.NoError(t, err)
	errEdit := errors.New("no")
	tests := []struct {
		name   string
		base   *image.Image
		layers []mutate.Layer
		edit   mutate.Edit
		want   error
		msg    string
	}{
		{name: "base diff_ids out of step", base: lying, layers: []mutate.Layer{app}, want: image.ErrInvalid, msg: "0 diff_ids for 1 layers"},
		{name: "bad diff_id", base: good, layers: []mutate.Layer{{Blob: app.Blob, DiffID: "sha256:nope"}}, want: image.ErrInvalid, msg: "layers[0]"},
		{name: "missing diff_id", base: good, layers: []mutate.Layer{{Blob: app.Blob}}, want: image.ErrInvalid, msg: "layers[0]"},
		{name: "edit fails", base: good, edit: func(*ocispec.Image) error { return errEdit }, want: errEdit},
		{name: "edit drops diff_ids", base: good, layers: []mutate.Layer{app},
			edit: func(c *ocispec.Image) error { c.RootFS.DiffIDs = c.RootFS.DiffIDs[:1]; return nil },
			want: image.ErrInvalid, msg: "1 diff_ids for 3 layers"},
		{name: "artifact", base: art, layers: []mutate.Layer{app}, want: image.ErrUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mutate.Append(ctx, tc.base, tc.layers, tc.edit)
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// TestRebase swaps a 2-layer base for a 3-layer one under an image's own
// layer.
func TestRebase(t *testing.T) {
	ctx := t.Context()
	oldBase, newBase := base(t, "amd64", 2), base(t, "arm64", 3)
	app := tgz(t, "app", "binary")
	img, err := mutate.Append(ctx, oldBase, []mutate.Layer{app}, func(c *ocispec.Image) error {
		c.Config.Entrypoint = []string{"/app"}
		return nil
	})
	require.NoError(t, err)

	got, err := mutate.Rebase(ctx, unopenable(t, img), unopenable(t, oldBase), unopenable(t, newBase), nil)
	require.NoError(t, err)
	want := append(newBase.Layers(), app.Blob)
	require.Len(t, got.Layers(), len(want))
	for i, l := range got.Layers() {
		require.Equal(t, want[i].Descriptor().Digest, l.Descriptor().Digest)
	}
	nc, err := newBase.ConfigFile(ctx)
	require.NoError(t, err)
	c, err := got.ConfigFile(ctx)
	require.NoError(t, err)
	require.Equal(t, append(nc.RootFS.DiffIDs, app.DiffID), c.RootFS.DiffIDs)
	require.Equal(t, append(nc.History, app.History), c.History)
	require.Equal(t, "arm64", c.Architecture, "platform of the new base")
	require.Equal(t, []string{"/app"}, c.Config.Entrypoint, "the image's own config")

	_, err = mutate.Rebase(ctx, img, newBase, oldBase, nil)
	require.ErrorIs(t, err, mutate.ErrNotOnBase)
	// Same layers, different diff_ids: not the base either.
	liar := withDiffIDs(t, oldBase, []digest.Digest{app.DiffID, app.DiffID})
	_, err = mutate.Rebase(ctx, img, liar, newBase, nil)
	require.ErrorIs(t, err, mutate.ErrNotOnBase)
}

// withDiffIDs returns img with its config's diff_ids replaced by ids.
func withDiffIDs(t *testing.T, img *image.Image, ids []digest.Digest) *image.Image {
	t.Helper()
	c, err := img.ConfigFile(t.Context())
	require.NoError(t, err)
	c.RootFS.DiffIDs = ids
	p, err := json.Marshal(c)
	require.NoError(t, err)
	out, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, p), img.Layers(), nil)
	require.NoError(t, err)
	return out
}

// TestRebaseDropsOldBaseTrailingHistory rebases an image whose old base's
// history ends in empty_layer entries (ENV, CMD): those belong to the old
// base and must not sit on top of the new base's history.
func TestRebaseDropsOldBaseTrailingHistory(t *testing.T) {
	ctx := t.Context()
	l := tgz(t, "old", "old")
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{"os":"linux","architecture":"amd64",`+
		`"rootfs":{"type":"layers","diff_ids":["`+l.DiffID+`"]},`+
		`"history":[{"created_by":"ADD old"},{"created_by":"ENV A=1","empty_layer":true},{"created_by":"CMD [\"sh\"]","empty_layer":true}]}`))
	oldBase, err := image.New(cfg, []image.Blob{l.Blob}, nil)
	require.NoError(t, err)
	newBase := base(t, "arm64", 2)
	app := tgz(t, "app", "binary")
	img, err := mutate.Append(ctx, oldBase, []mutate.Layer{app}, nil)
	require.NoError(t, err)

	got, err := mutate.Rebase(ctx, img, oldBase, newBase, nil)
	require.NoError(t, err)
	nc, err := newBase.ConfigFile(ctx)
	require.NoError(t, err)
	c, err := got.ConfigFile(ctx)
	require.NoError(t, err)
	require.Equal(t, append(nc.History, app.History), c.History)
}

// TestRebasePadsNewBaseHistory checks that a new base without history gets
// an empty entry per layer under the image's own entries, not after them.
func TestRebasePadsNewBaseHistory(t *testing.T) {
	ctx := t.Context()
	l := tgz(t, "new", "new")
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig,
		[]byte(`{"os":"linux","architecture":"arm64","rootfs":{"type":"layers","diff_ids":["`+l.DiffID+`"]}}`))
	newBase, err := image.New(cfg, []image.Blob{l.Blob}, nil)
	require.NoError(t, err)
	oldBase := base(t, "amd64", 1)
	app := tgz(t, "app", "binary")
	img, err := mutate.Append(ctx, oldBase, []mutate.Layer{app}, nil)
	require.NoError(t, err)
	got, err := mutate.Rebase(ctx, img, oldBase, newBase, nil)
	require.NoError(t, err)
	c, err := got.ConfigFile(ctx)
	require.NoError(t, err)
	require.Equal(t, []ocispec.History{{}, app.History}, c.History)
}
