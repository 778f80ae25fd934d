package files_test

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/files"
)

// TestReadFileLongPaths: a link to a deep path is refused at once, where it
// took time quadratic in its depth (40,000 levels: 22 s), and a deep path
// under the limit is read.
func TestReadFileLongPaths(t *testing.T) {
	deep := strings.Repeat("d/", 2000) + "x" // 4001 bytes
	tests := []struct {
		name    string
		layer   []ent
		path    string
		want    string
		wantErr error
	}{
		{name: "link to 40,000 levels", layer: []ent{symlink("l", strings.Repeat("d/", 40000)+"x")}, path: "l", wantErr: files.ErrNameTooLong},
		{name: "name of 40,000 levels", layer: []ent{file("x", "1")}, path: strings.Repeat("d/", 40000) + "x", wantErr: files.ErrNameTooLong},
		{name: "link doubling a path", layer: []ent{symlink("a/b", strings.Repeat("b/", 100)+"b"), file("x", "1")}, path: "a/b/x", wantErr: files.ErrNameTooLong},
		{name: "2000 levels through a link", layer: []ent{symlink("l", deep), file(deep, "deep")}, path: "l", want: "deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := imageOf(t, tarOf(t, tt.layer...))
			got, err := files.ReadFile(context.Background(), img, tt.path)
			if tt.wantErr != nil {
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestReadFileStopsOnCancel(t *testing.T) {
	img := imageOf(t, tarOf(t, symlink("a", "b"), symlink("b", "a")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := files.ReadFile(ctx, img, "a")
	require.ErrorIs(t, err, context.Canceled)
}

// TestThroughSameLayerLink: an entry under a symbolic link (or a file) made
// earlier in its own layer is refused by Walk, Flatten and ReadFile; the
// same names across layers are a directory replacing the link.
func TestThroughSameLayerLink(t *testing.T) {
	tests := []struct {
		name    string
		layers  [][]ent // base first
		read    string  // a path ReadFile refuses ("" for none)
		entry   string  // the refused entry
		through string
	}{
		{name: "symlink then a file under it", layers: [][]ent{{symlink("evil", "/etc"), file("evil/passwd", "pwned")}}, read: "evil/passwd", entry: "evil/passwd", through: "evil"},
		{name: "deeper", layers: [][]ent{{dir("a"), symlink("a/b", "../etc"), file("a/b/c/d", "x")}}, read: "a/b/c/d", entry: "a/b/c/d", through: "a/b"},
		{name: "a directory under it", layers: [][]ent{{symlink("evil", "/etc"), dir("evil/cron.d")}}, read: "evil/cron.d/x", entry: "evil/cron.d", through: "evil"},
		{name: "a file under a file", layers: [][]ent{{file("f", "1"), file("f/x", "2")}}, read: "f/x", entry: "f/x", through: "f"},
		{name: "a whiteout under it", layers: [][]ent{{file("etc/passwd", "root")}, {symlink("evil", "/etc"), wh("evil/.wh.passwd")}}, entry: "evil/.wh.passwd", through: "evil"},
		{name: "the link hidden by an upper directory", layers: [][]ent{{symlink("evil", "/etc"), file("evil/passwd", "pwned")}, {dir("evil")}}, read: "evil/passwd", entry: "evil/passwd", through: "evil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tars := make([][]byte, len(tt.layers))
			for i, l := range tt.layers {
				tars[i] = tarOf(t, l...)
			}
			img := imageOf(t, tars...)
			ctx := context.Background()
			check := func(err error) {
				t.Helper()
				var le *files.LayerError
				require.ErrorAs(t, err, &le)
				var ue *files.UnsafeNameError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tt.entry, ue.Name)
				assert.Equal(t, tt.through, ue.Through)
			}
			_, err := walked(t, img)
			check(err)
			check(files.Flatten(ctx, img, io.Discard))
			if tt.read != "" {
				_, err = files.ReadFile(ctx, img, tt.read)
				var ue *files.UnsafeNameError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tt.through, ue.Through)
			}
		})
	}
}

// TestLinkReplacedInTheSameLayer: a link that a directory replaces before
// the entries under it, and entries of an upper layer over a lower link,
// are a plain directory (as overlayfs shows them): Flatten writes no link
// that a later entry goes through.
func TestLinkReplacedInTheSameLayer(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent
		want   []string
		read   string
	}{
		{name: "directory replaces the link", layers: [][]ent{{symlink("a", "/etc"), dir("a"), file("a/x", "1")}}, want: []string{"a->/etc", "a/", "a/x=1"}, read: "a/x"},
		{name: "upper layer over a lower link", layers: [][]ent{{file("etc/passwd", "root"), symlink("evil", "/etc")}, {file("evil/passwd", "pwned")}}, want: []string{"evil/passwd=pwned", "etc/passwd=root"}, read: "etc/passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tars := make([][]byte, len(tt.layers))
			for i, l := range tt.layers {
				tars[i] = tarOf(t, l...)
			}
			img := imageOf(t, tars...)
			got, err := walked(t, img)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			_, err = files.ReadFile(context.Background(), img, tt.read)
			require.NoError(t, err)
		})
	}
}

// TestWalkRefusesLongNames checks that an entry name or link target longer
// than any filesystem holds (4096 bytes) is refused before it is looked at
// level by level, which costs time quadratic in its depth.
func TestWalkRefusesLongNames(t *testing.T) {
	deep := strings.Repeat("d/", 20_000) + "x"
	for name, tr := range map[string][]byte{
		"name":   tarOf(t, file(deep, "x")),
		"target": tarOf(t, symlink("l", deep)),
	} {
		t.Run(name, func(t *testing.T) {
			err := files.Walk(t.Context(), imageOf(t, tr), func(*tar.Header, io.Reader) error { return nil })
			require.ErrorIs(t, err, files.ErrNameTooLong)
		})
	}
}
