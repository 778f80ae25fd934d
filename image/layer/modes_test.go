package layer_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/layer"
)

// The same files checked out under umask 022 and 002 give different
// layers, and the same one with WithNormalModes.
func TestNormalModes(t *testing.T) {
	files := map[string]string{"bin/": "", "bin/run": "#!/bin/sh\n", "etc/conf": "k=v\n", "link": "->bin/run"}
	a, b := tree(t, files), tree(t, files)
	for _, c := range []struct {
		name   string
		a, b   fs.FileMode
		normal int64
	}{
		{"bin", 0o755, 0o775, 0o755},
		{"etc", 0o755, 0o775, 0o755},
		{"bin/run", 0o755, 0o775 | fs.ModeSetuid, 0o755},
		{"etc/conf", 0o644, 0o664, 0o644},
	} {
		require.NoError(t, os.Chmod(filepath.Join(a, c.name), c.a))
		require.NoError(t, os.Chmod(filepath.Join(b, c.name), c.b))
	}
	da, _ := encode(t, layer.FromDir(a))
	db, _ := encode(t, layer.FromDir(b))
	assert.NotEqual(t, da.DiffID, db.DiffID, "modes come from disk by default")

	na, bytesA := encode(t, layer.FromDir(a, layer.WithNormalModes()))
	nb, _ := encode(t, layer.FromDir(b, layer.WithNormalModes()))
	assert.Equal(t, na, nb)
	hs, _ := headers(t, na.Descriptor.MediaType, bytesA)
	want := map[string]int64{"bin/": 0o755, "bin/run": 0o755, "etc/": 0o755, "etc/conf": 0o644, "link": 0o777}
	got := map[string]int64{}
	for _, h := range hs {
		got[h.Name] = h.Mode
	}
	assert.Equal(t, want, got)

	// An fs.FS is normalised the same way, symlinks included.
	fsys := fstest.MapFS{
		"bin":      {Mode: fs.ModeDir | 0o700},
		"bin/run":  {Data: []byte("#!/bin/sh\n"), Mode: 0o700},
		"etc":      {Mode: fs.ModeDir | 0o2775},
		"etc/conf": {Data: []byte("k=v\n"), Mode: 0o600},
		"link":     {Data: []byte("bin/run"), Mode: fs.ModeSymlink | 0o755},
	}
	fromFS, _ := encode(t, layer.FromFS(fsys, layer.WithNormalModes()))
	assert.Equal(t, na, fromFS)
}
