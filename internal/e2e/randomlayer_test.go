package e2e

import (
	"encoding/json"
	"io"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
)

// TestWithRandomLayerKeepsConfig checks that adding a layer to a base
// keeps the config keys ocispec.Image does not model (Docker's
// Healthcheck and container_config) and the base's empty_layer history,
// with one history entry per layer.
func TestWithRandomLayerKeepsConfig(t *testing.T) {
	l, id := testimage.Layer(ocispec.MediaTypeImageLayerGzip, []byte("base"))
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{"os":"linux","architecture":"amd64",`+
		`"config":{"Healthcheck":{"Test":["CMD","true"]}},"container_config":{"Hostname":"b"},`+
		`"rootfs":{"type":"layers","diff_ids":["`+id+`"]},`+
		`"history":[{"created_by":"ADD base"},{"created_by":"ENV A=1","empty_layer":true}]}`))
	base, err := image.New(cfg, []image.Blob{l}, nil)
	require.NoError(t, err)

	img := withRandomLayer(t, base, 16)
	rc, err := img.Config().Open(t.Context())
	require.NoError(t, err)
	p, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	var raw struct {
		Config          map[string]json.RawMessage `json:"config"`
		ContainerConfig json.RawMessage            `json:"container_config"`
		History         []ocispec.History          `json:"history"`
	}
	require.NoError(t, json.Unmarshal(p, &raw))
	require.Contains(t, raw.Config, "Healthcheck")
	require.JSONEq(t, `{"Hostname":"b"}`, string(raw.ContainerConfig))
	require.Len(t, raw.History, 3)
	require.True(t, raw.History[1].EmptyLayer)
	require.False(t, raw.History[2].EmptyLayer)
}
