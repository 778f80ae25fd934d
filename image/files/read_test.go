package files_test

import (
	"archive/tar"
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/files"
)

func TestReadFile(t *testing.T) {
	tests := []struct {
		name    string
		layers  [][]ent // base first
		path    string
		want    string
		wantErr error
	}{
		{name: "in the base", layers: [][]ent{{file("etc/os-release", "v1")}, {file("other", "x")}}, path: "etc/os-release", want: "v1"},
		{name: "leading slash and dot", layers: [][]ent{{file("./etc/os-release", "v1")}}, path: "/./etc/os-release", want: "v1"},
		{name: "upper wins", layers: [][]ent{{file("a", "old")}, {file("a", "new")}}, path: "a", want: "new"},
		{name: "deleted", layers: [][]ent{{file("a", "old")}, {wh(".wh.a")}}, path: "a", wantErr: fs.ErrNotExist},
		{name: "directory deleted", layers: [][]ent{{file("d/a", "old")}, {wh(".wh.d")}}, path: "d/a", wantErr: fs.ErrNotExist},
		{name: "opaque directory", layers: [][]ent{{file("d/a", "old")}, {wh("d/.wh..wh..opq")}}, path: "d/a", wantErr: fs.ErrNotExist},
		{name: "opaque root", layers: [][]ent{{file("d/a", "old")}, {wh(".wh..wh..opq")}}, path: "d/a", wantErr: fs.ErrNotExist},
		{name: "whiteout in the same layer does not hide", layers: [][]ent{{file("a", "old")}, {file("a", "new"), wh(".wh.a")}}, path: "a", want: "new"},
		{name: "opaque in the same layer does not hide", layers: [][]ent{{file("d/a", "old")}, {file("d/a", "new"), wh("d/.wh..wh..opq")}}, path: "d/a", want: "new"},
		{name: "whiteout of a missing path is ignored", layers: [][]ent{{file("a", "1")}, {wh(".wh.b")}}, path: "a", want: "1"},
		{name: "missing", layers: [][]ent{{file("a", "1")}}, path: "b", wantErr: fs.ErrNotExist},
		{name: "duplicate in one layer: the last wins", layers: [][]ent{{file("a", "first"), file("a", "last")}}, path: "a", want: "last"},
		{name: "directory", layers: [][]ent{{dir("d"), file("d/a", "1")}}, path: "d", wantErr: files.ErrNotRegular},
		{name: "implied directory", layers: [][]ent{{file("d/a", "1")}}, path: "d", wantErr: files.ErrNotRegular},
		{name: "root", layers: [][]ent{{file("a", "1")}}, path: "/", wantErr: files.ErrNotRegular},
		{name: "upper file replaces the directory", layers: [][]ent{{file("d/a", "1")}, {file("d", "f")}}, path: "d/a", wantErr: fs.ErrNotExist},
		{name: "upper implied directory hides a lower file", layers: [][]ent{{file("d", "f")}, {file("d/a", "1")}}, path: "d", wantErr: files.ErrNotRegular},
		{name: "relative symlink", layers: [][]ent{{file("etc/real", "r"), symlink("etc/link", "real")}}, path: "etc/link", want: "r"},
		{name: "absolute symlink resolves in the image", layers: [][]ent{{file("etc/real", "r")}, {symlink("bin/link", "/etc/real")}}, path: "bin/link", want: "r"},
		{name: "symlink escape stops at the root", layers: [][]ent{{file("etc/passwd", "image's")}, {symlink("a/b/link", "../../../../../etc/passwd")}}, path: "a/b/link", want: "image's"},
		{name: "symlinked directory (merged /usr)", layers: [][]ent{{symlink("lib", "usr/lib"), file("usr/lib/libc.so", "c")}}, path: "lib/libc.so", want: "c"},
		{name: "symlinked directory in a lower layer", layers: [][]ent{{symlink("lib", "usr/lib")}, {file("usr/lib/libc.so", "c")}}, path: "/lib/libc.so", want: "c"},
		{name: "upper directory beats a lower symlink", layers: [][]ent{{symlink("lib", "usr/lib"), file("usr/lib/x", "via link")}, {file("lib/y", "own")}}, path: "lib/x", wantErr: fs.ErrNotExist},
		{name: "symlink loop", layers: [][]ent{{symlink("a", "b"), symlink("b", "a")}}, path: "a", wantErr: files.ErrTooManyLinks},
		{name: "file in the path", layers: [][]ent{{file("f", "1")}}, path: "f/x", wantErr: fs.ErrNotExist},
		{name: "hard link", layers: [][]ent{{file("bin/a", "A"), hardlink("bin/b", "bin/a")}}, path: "bin/b", want: "A"},
		{name: "hard link keeps its layer's content", layers: [][]ent{{file("bin/a", "A"), hardlink("bin/b", "bin/a")}, {file("bin/a", "changed")}}, path: "bin/b", want: "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tars := make([][]byte, len(tt.layers))
			for i, l := range tt.layers {
				tars[i] = tarOf(t, l...)
			}
			got, err := files.ReadFile(context.Background(), imageOf(t, tars...), tt.path)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.path, pe.Path)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestReadFileStopsAtTheTopmostLayer(t *testing.T) {
	tests := []struct {
		name string
		top  []ent
		want string // "" for not found
	}{
		{name: "found", top: []ent{file("a", "top")}, want: "top"},
		{name: "deleted", top: []ent{wh(".wh.a")}},
		{name: "directory deleted", top: []ent{wh(".wh.d")}},
		{name: "replaced by a file", top: []ent{file("d", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "a"
			if tt.name != "found" && tt.name != "deleted" {
				name = "d/a"
			}
			top := tarOf(t, tt.top...)
			img := imageOfBlobs(t, nil, brokenBlob(), gzBlob(t, top))
			got, err := files.ReadFile(context.Background(), img, name)
			if tt.want == "" {
				require.ErrorIs(t, err, fs.ErrNotExist)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
	// Without the stop, the broken base is read.
	img := imageOfBlobs(t, nil, brokenBlob(), gzBlob(t, tarOf(t, file("b", ""))))
	_, err := files.ReadFile(context.Background(), img, "a")
	assert.ErrorIs(t, err, errBroken)
}

func TestReadFileLimits(t *testing.T) {
	img := imageOf(t, tarOf(t, file("big", "0123456789")))
	_, err := files.ReadFile(context.Background(), img, "big", files.WithMaxFileSize(9))
	var le *files.LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "file size", le.What)

	got, err := files.ReadFile(context.Background(), img, "big", files.WithMaxFileSize(10))
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(got))

	_, err = files.ReadFile(context.Background(), imageOfBlobs(t, nil, gzBlob(t, tarOf(t, file("../x", "")))), "x")
	var ue *files.UnsafeNameError
	assert.ErrorAs(t, err, &ue)
}

func TestLstat(t *testing.T) {
	img := imageOf(t,
		tarOf(t, symlink("lib", "usr/lib"), file("usr/lib/libc.so", "c"), symlink("usr/lib/libc.so.6", "libc.so")),
		tarOf(t, file("d/x", "1")),
	)
	tests := []struct {
		path     string
		typ      byte
		name     string
		linkname string
	}{
		{path: "lib", typ: tar.TypeSymlink, name: "lib", linkname: "usr/lib"},
		{path: "lib/libc.so.6", typ: tar.TypeSymlink, name: "usr/lib/libc.so.6", linkname: "libc.so"},
		{path: "lib/libc.so", typ: tar.TypeReg, name: "usr/lib/libc.so"},
		{path: "d", typ: tar.TypeDir, name: "d"},
		{path: "/", typ: tar.TypeDir, name: "."},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			hdr, err := files.Lstat(context.Background(), img, tt.path)
			require.NoError(t, err)
			assert.Equal(t, tt.typ, hdr.Typeflag)
			assert.Equal(t, tt.name, hdr.Name)
			assert.Equal(t, tt.linkname, hdr.Linkname)
		})
	}
	_, err := files.Lstat(context.Background(), img, "nope")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
