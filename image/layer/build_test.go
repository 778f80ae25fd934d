package layer_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/layer"
)

var appFiles = map[string]string{
	"app/":           "",
	"app/bin/run":    "#!/bin/sh\necho hi\n",
	"app/etc/conf":   "k=v\n",
	"app/link":       "->bin/run",
	"app/out":        "->../../../etc",
	"app.txt":        "beside",
	"zzz/empty-dir/": "",
}

func TestReproducible(t *testing.T) {
	dir := tree(t, appFiles)
	first, b1 := encode(t, layer.FromDir(dir))
	// New times on disk change nothing.
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.Type()&fs.ModeSymlink == 0 {
			require.NoError(t, os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(-time.Hour)))
		}
		return nil
	}))
	second, b2 := encode(t, layer.FromDir(dir))
	assert.Equal(t, first, second)
	assert.Equal(t, b1, b2)

	// The same files as a list, or as an fs.FS, give the same layer.
	files := []layer.File{
		{Name: "zzz/empty-dir", Mode: fs.ModeDir | 0o755},
		{Name: "app", Mode: fs.ModeDir | 0o755},
		{Name: "app/bin", Mode: fs.ModeDir | 0o755},
		{Name: "app/bin/run", Mode: 0o644, Content: []byte(appFiles["app/bin/run"])},
		{Name: "app/etc", Mode: fs.ModeDir | 0o755},
		{Name: "app/etc/conf", Mode: 0o644, Content: []byte("k=v\n")},
		{Name: "app/link", Mode: fs.ModeSymlink | 0o777, Linkname: "bin/run"},
		{Name: "app/out", Mode: fs.ModeSymlink | 0o777, Linkname: "../../../etc"},
		{Name: "./app.txt", Mode: 0o644, Content: []byte("beside")},
		{Name: "zzz", Mode: fs.ModeDir | 0o755},
	}
	fromList, _ := encode(t, layer.FromFiles(files))
	assert.Equal(t, first, fromList, "FromFiles of the same files")
	fromFS, _ := encode(t, layer.FromFS(os.DirFS(dir)))
	assert.Equal(t, first, fromFS, "FromFS(os.DirFS)")

	// A time asked for is used, and changes the digest.
	at := time.Date(2024, 5, 1, 12, 0, 0, 500, time.UTC)
	dated, b := encode(t, layer.FromDir(dir, layer.WithModTime(at)))
	assert.NotEqual(t, first.Descriptor.Digest, dated.Descriptor.Digest)
	hs, _ := headers(t, dated.Descriptor.MediaType, b)
	assert.True(t, hs[0].ModTime.Equal(at.Truncate(time.Second)), hs[0].ModTime)
}

func TestFromDirEntries(t *testing.T) {
	dir := tree(t, appFiles)
	run := filepath.Join(dir, "app/bin/run")
	// Owned by someone else than whoever runs the test (root can give it).
	if err := os.Lchown(run, 4321, 4322); err != nil {
		t.Logf("cannot chown (%v): owners stay the test's own", err)
	}
	require.NoError(t, os.Chmod(run, 0o755|fs.ModeSetuid)) // after chown, which clears setuid
	st, err := os.Lstat(run)
	require.NoError(t, err)
	uid, gid := ownerOf(st)
	info, b := encode(t, layer.FromDir(dir))
	hs, content := headers(t, info.Descriptor.MediaType, b)
	assert.Equal(t, []string{"app/", "app/bin/", "app/bin/run", "app/etc/", "app/etc/conf", "app/link", "app/out", "app.txt", "zzz/", "zzz/empty-dir/"}, names(hs))
	for _, h := range hs {
		assert.Zero(t, h.Uid, h.Name)
		assert.Zero(t, h.Gid, h.Name)
		assert.Empty(t, h.Uname, h.Name)
		assert.Empty(t, h.Gname, h.Name)
		assert.Equal(t, int64(0), h.ModTime.Unix(), h.Name)
		assert.True(t, h.AccessTime.IsZero(), h.Name)
	}
	byName := map[string]*tar.Header{}
	for _, h := range hs {
		byName[h.Name] = h
	}
	assert.Equal(t, int64(0o4755), byName["app/bin/run"].Mode)
	// Symlinks stay links; the one leading out is not followed.
	assert.Equal(t, byte(tar.TypeSymlink), byName["app/out"].Typeflag)
	assert.Equal(t, "../../../etc", byName["app/out"].Linkname)
	assert.Equal(t, "k=v\n", content["app/etc/conf"])
	assert.Len(t, content, 3)

	// Host owners only when asked.
	info, b = encode(t, layer.FromDir(dir, layer.WithHostOwners()))
	hs, _ = headers(t, info.Descriptor.MediaType, b)
	for _, h := range hs {
		if h.Name == "app/bin/run" {
			assert.Equal(t, uid, h.Uid)
			assert.Equal(t, gid, h.Gid)
			assert.Empty(t, h.Uname)
		}
	}
	assert.NotZero(t, uid+gid, "the test needs a file not owned by 0:0")
}

func TestFromFilesModesAndOwners(t *testing.T) {
	files := []layer.File{
		{Name: "etc/app.conf", Mode: 0o600, UID: 1000, GID: 1001, Content: []byte("secret")},
		{Name: "bin/app", Mode: 0o755 | fs.ModeSetgid, Content: []byte("ELF")},
		{Name: "bin", Mode: fs.ModeDir | 0o711, UID: 2},
		{Name: "tmp", Mode: fs.ModeDir | 0o777 | fs.ModeSticky},
		{Name: "bin/sh", Mode: fs.ModeSymlink | 0o777, Linkname: "/bin/busybox"},
	}
	tests := []struct {
		name     string
		typ      byte
		mode     int64
		uid, gid int
		link     string
	}{
		{"bin/", tar.TypeDir, 0o711, 2, 0, ""},
		{"bin/app", tar.TypeReg, 0o2755, 0, 0, ""},
		{"bin/sh", tar.TypeSymlink, 0o777, 0, 0, "/bin/busybox"},
		{"etc/app.conf", tar.TypeReg, 0o600, 1000, 1001, ""},
		{"tmp/", tar.TypeDir, 0o1777, 0, 0, ""},
	}
	for _, opts := range [][]layer.Option{nil, {layer.WithCompression(layer.Uncompressed)}} {
		info, b := encode(t, layer.FromFiles(files, opts...))
		hs, content := headers(t, info.Descriptor.MediaType, b)
		require.Len(t, hs, len(tests))
		for i, tt := range tests {
			h := hs[i]
			assert.Equal(t, tt.name, h.Name)
			assert.Equal(t, tt.typ, h.Typeflag, tt.name)
			assert.Equal(t, tt.mode, h.Mode, tt.name)
			assert.Equal(t, tt.uid, h.Uid, tt.name)
			assert.Equal(t, tt.gid, h.Gid, tt.name)
			assert.Equal(t, tt.link, h.Linkname, tt.name)
		}
		assert.Equal(t, "secret", content["etc/app.conf"])
	}
}

func TestMediaTypes(t *testing.T) {
	files := []layer.File{{Name: "a", Mode: 0o644, Content: []byte("a")}}
	tests := []struct {
		opts []layer.Option
		want string
	}{
		{nil, ocispec.MediaTypeImageLayerGzip},
		{[]layer.Option{layer.WithCompression(layer.Uncompressed)}, ocispec.MediaTypeImageLayer},
		{[]layer.Option{layer.WithDockerMediaType()}, layer.MediaTypeDockerGzip},
		{[]layer.Option{layer.WithDockerMediaType(), layer.WithCompression(layer.Uncompressed)}, layer.MediaTypeDockerTar},
		{[]layer.Option{layer.WithGzipLevel(9)}, ocispec.MediaTypeImageLayerGzip},
	}
	for _, tt := range tests {
		info, _ := encode(t, layer.FromFiles(files, tt.opts...))
		assert.Equal(t, tt.want, info.Descriptor.MediaType)
		if tt.want == ocispec.MediaTypeImageLayer {
			assert.Equal(t, info.Descriptor.Digest, info.DiffID, "an uncompressed layer's digest is its diff_id")
		}
	}
}

func TestBadEntries(t *testing.T) {
	tests := []struct {
		name  string
		hdr   *tar.Header // for FromTar
		file  *layer.File // for FromFiles
		entry string
		want  error
	}{
		{"absolute tar", &tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg}, nil, "/etc/passwd", layer.ErrAbsolutePath},
		{"dotdot tar", &tar.Header{Name: "../x", Typeflag: tar.TypeReg}, nil, "../x", layer.ErrPathEscapes},
		{"deep dotdot tar", &tar.Header{Name: "a/b/../../../x", Typeflag: tar.TypeReg}, nil, "a/b/../../../x", layer.ErrPathEscapes},
		{"hard link out", &tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"}, nil, "h", layer.ErrPathEscapes},
		{"hard link absolute", &tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}, nil, "h", layer.ErrAbsolutePath},
		{"absolute file", nil, &layer.File{Name: "/etc/passwd"}, "/etc/passwd", layer.ErrAbsolutePath},
		{"dotdot file", nil, &layer.File{Name: "a/../../x"}, "a/../../x", layer.ErrPathEscapes},
		{"empty file", nil, &layer.File{Name: ""}, "", layer.ErrEmptyPath},
		{"root file", nil, &layer.File{Name: "./"}, "./", layer.ErrEmptyPath},
		{"device file", nil, &layer.File{Name: "dev/null", Mode: fs.ModeDevice}, "dev/null", layer.ErrUnsupportedType},
		{"duplicate file", nil, &layer.File{Name: "./ok"}, "./ok", layer.ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l *layer.Layer
			if tt.hdr != nil {
				l = layer.FromTar(bytes.NewReader(tarOf(t, &tar.Header{Name: "ok", Typeflag: tar.TypeReg}, tt.hdr)))
			} else {
				l = layer.FromFiles([]layer.File{{Name: "ok"}, *tt.file})
			}
			_, err := l.Encode(t.Context(), &bytes.Buffer{})
			require.ErrorIs(t, err, tt.want)
			var ee *layer.EntryError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tt.entry, ee.Name)
		})
	}
}

func TestFromTarNormalises(t *testing.T) {
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	in := tarOf(t,
		&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime, Uname: "builder"},
		&tar.Header{Name: "usr/./bin/../tool", Typeflag: tar.TypeReg, Mode: 0o755, Uid: 7, Gid: 8, Uname: "u", Gname: "g", ModTime: mtime,
			PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v", "comment": "dropped"}, Format: tar.FormatPAX},
		&tar.Header{Name: "usr/hard", Typeflag: tar.TypeLink, Linkname: "./usr/tool"},
	)
	l := layer.FromTar(bytes.NewReader(in))
	info, b := encode(t, l)
	hs, content := headers(t, info.Descriptor.MediaType, b)
	assert.Equal(t, []string{"usr/", "usr/tool", "usr/hard"}, names(hs), "order kept, root dropped")
	tool := hs[1]
	assert.Equal(t, 7, tool.Uid)
	assert.Equal(t, 8, tool.Gid)
	assert.Empty(t, tool.Uname)
	assert.Equal(t, int64(0), tool.ModTime.Unix())
	assert.Equal(t, map[string]string{"SCHILY.xattr.user.k": "v"}, tool.PAXRecords)
	assert.Equal(t, "usr/./bin/../tool", content["usr/tool"])
	assert.Equal(t, "usr/tool", hs[2].Linkname)

	// The same tar again gives the same layer; the stream itself is spent.
	again, _ := encode(t, layer.FromTar(bytes.NewReader(in)))
	assert.Equal(t, info, again)
	_, err := l.Encode(t.Context(), &bytes.Buffer{})
	assert.Error(t, err)
}

func TestFromFSWithoutDisk(t *testing.T) {
	fsys := fstest.MapFS{
		"a/b":  {Data: []byte("b"), Mode: 0o640},
		"a/l":  {Data: []byte("b"), Mode: fs.ModeSymlink | 0o777},
		"c":    {Data: []byte("c"), Mode: 0o600},
		"a":    {Mode: fs.ModeDir | 0o750},
		"dev0": {Mode: fs.ModeCharDevice},
	}
	_, err := layer.FromFS(fsys).Encode(t.Context(), &bytes.Buffer{})
	require.ErrorIs(t, err, layer.ErrUnsupportedType)
	delete(fsys, "dev0")
	info, b := encode(t, layer.FromFS(fsys))
	hs, _ := headers(t, info.Descriptor.MediaType, b)
	assert.Equal(t, []string{"a/", "a/b", "a/l", "c"}, names(hs))
	assert.Equal(t, "b", hs[2].Linkname)
	assert.Equal(t, int64(0o640), hs[1].Mode)
}

func TestSpool(t *testing.T) {
	dir := tree(t, appFiles)
	want, b := encode(t, layer.FromDir(dir))
	tmp := t.TempDir()
	sp, err := layer.FromDir(dir).Spool(t.Context(), tmp)
	require.NoError(t, err)
	assert.Equal(t, want, sp.Info)
	rc, err := sp.Open(t.Context())
	require.NoError(t, err)
	got := new(bytes.Buffer)
	_, err = got.ReadFrom(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, b, got.Bytes())
	require.NoError(t, sp.Remove())
	left, _ := os.ReadDir(tmp)
	assert.Empty(t, left)

	// A layer that fails leaves no file.
	_, err = layer.FromFiles([]layer.File{{Name: "/x"}}).Spool(t.Context(), tmp)
	require.Error(t, err)
	left, _ = os.ReadDir(tmp)
	assert.Empty(t, left)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := layer.FromDir(tree(t, appFiles)).Encode(ctx, &bytes.Buffer{})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestMemoryFlat encodes a 256 MiB file (sparse on disk) and checks that
// what the encoding allocates does not grow with it.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 256 MiB")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(256<<20))
	require.NoError(t, f.Close())
	for _, c := range []layer.Compression{layer.Gzip, layer.Uncompressed} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		info, err := layer.FromDir(dir, layer.WithCompression(c)).Encode(t.Context(), discard{})
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		require.Greater(t, info.Descriptor.Size, int64(0))
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d bytes allocated for a 256 MiB file", c, allocated)
		assert.Less(t, allocated, uint64(4<<20), c.String())
	}
}

// discard is io.Discard without its ReaderFrom.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestMemoryManyFiles checks that what encoding allocates per file is small:
// no copy buffer of its own for each file.
func TestMemoryManyFiles(t *testing.T) {
	fsys := fstest.MapFS{}
	const n = 512
	for i := range n {
		fsys[fmt.Sprintf("d/f%04d", i)] = &fstest.MapFile{Data: []byte("x"), Mode: 0o644}
	}
	l := layer.FromFS(fsys, layer.WithCompression(layer.Uncompressed))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := l.Encode(t.Context(), discard{})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	perFile := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes allocated per file", perFile)
	assert.Less(t, perFile, uint64(4<<10))
}

func TestFromDirHardLinks(t *testing.T) {
	dir := tree(t, map[string]string{"a": "same"})
	require.NoError(t, os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b")))
	info, b := encode(t, layer.FromDir(dir))
	hs, content := headers(t, info.Descriptor.MediaType, b)
	require.Len(t, hs, 2)
	for _, h := range hs {
		assert.Equal(t, byte(tar.TypeReg), h.Typeflag, "hard links are stored as regular files")
	}
	assert.Equal(t, map[string]string{"a": "same", "b": "same"}, content)
}
