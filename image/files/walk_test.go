package files_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
	"github.com/regkit/regkit/image/layer"
)

// describe returns an entry as the tests write it: "name=body" for a
// file, "name/" for a directory, "name->to" and "name=>to" for links.
func describe(hdr *tar.Header, r io.Reader) (string, error) {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return hdr.Name + "/", nil
	case tar.TypeSymlink:
		return hdr.Name + "->" + hdr.Linkname, nil
	case tar.TypeLink:
		return hdr.Name + "=>" + hdr.Linkname, nil
	}
	body, err := io.ReadAll(r)
	return hdr.Name + "=" + string(body), err
}

// walked returns what Walk reports, in order.
func walked(t *testing.T, img *image.Image, opts ...files.Option) ([]string, error) {
	t.Helper()
	var got []string
	err := files.Walk(context.Background(), img, func(hdr *tar.Header, r io.Reader) error {
		s, err := describe(hdr, r)
		got = append(got, s)
		return err
	}, opts...)
	return got, err
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent // base first
		want   []string
	}{
		{
			name:   "one layer, names cleaned, root entry dropped",
			layers: [][]ent{{dir("./"), dir("./etc/"), file("./etc/os-release", "v1"), file("/abs", "a"), file("a//b/../c", "c")}},
			want:   []string{"etc/", "etc/os-release=v1", "abs=a", "a/c=c"},
		},
		{
			name:   "upper version wins, reported once, top layer first",
			layers: [][]ent{{file("a", "old"), file("b", "b")}, {file("a", "new")}},
			want:   []string{"a=new", "b=b"},
		},
		{
			name:   "whiteout deletes a file",
			layers: [][]ent{{file("a", "1"), file("b", "2")}, {wh(".wh.a")}},
			want:   []string{"b=2"},
		},
		{
			name:   "whiteout deletes a directory and all under it",
			layers: [][]ent{{dir("d"), file("d/x", "1"), dir("d/e"), file("d/e/y", "2"), file("dd", "3")}, {wh(".wh.d")}},
			want:   []string{"dd=3"},
		},
		{
			name:   "whiteout does not hide its own layer, before or after",
			layers: [][]ent{{file("a", "old"), file("b", "old")}, {wh(".wh.a"), file("a", "new"), file("b", "new"), wh(".wh.b")}},
			want:   []string{"a=new", "b=new"},
		},
		{
			name: "opaque directory hides lower children, keeps the directory and its own layer",
			layers: [][]ent{
				{dir("a"), dir("a/b"), dir("a/b/c"), file("a/b/c/bar", "1"), file("other", "2")},
				{dir("a"), dir("a/b"), dir("a/b/c"), file("a/b/c/foo", "3"), wh("a/.wh..wh..opq")},
			},
			want: []string{"a/", "a/b/", "a/b/c/", "a/b/c/foo=3", "other=2"},
		},
		{
			name:   "opaque marker alone keeps the lower directory entry",
			layers: [][]ent{{dir("bin"), file("bin/x", "1")}, {wh("bin/.wh..wh..opq")}},
			want:   []string{"bin/"},
		},
		{
			name:   "opaque root hides every lower layer",
			layers: [][]ent{{file("a", "1")}, {file("b", "2")}, {wh(".wh..wh..opq"), file("c", "3")}},
			want:   []string{"c=3"},
		},
		{
			name:   "whiteouts for missing paths are ignored",
			layers: [][]ent{{file("a", "1")}, {wh(".wh.nothing"), wh("no/dir/.wh.x"), wh("nodir/.wh..wh..opq"), wh(".wh.")}},
			want:   []string{"a=1"},
		},
		{
			name:   "lower whiteout does not touch upper files",
			layers: [][]ent{{wh(".wh.a")}, {file("a", "up")}},
			want:   []string{"a=up"},
		},
		{
			name:   "deleted then made again",
			layers: [][]ent{{file("a/x", "1")}, {wh(".wh.a")}, {file("a/y", "2")}},
			want:   []string{"a/y=2"},
		},
		{
			name:   "upper file replaces a lower directory and its contents",
			layers: [][]ent{{dir("d"), file("d/x", "1")}, {file("d", "file")}},
			want:   []string{"d=file"},
		},
		{
			name:   "upper symlink replaces a lower directory",
			layers: [][]ent{{dir("lib"), file("lib/x", "1")}, {symlink("lib", "usr/lib")}},
			want:   []string{"lib->usr/lib"},
		},
		{
			name:   "upper directory, even implied, hides a lower file at its path and keeps lower children",
			layers: [][]ent{{file("a", "file"), dir("b"), file("b/old", "o")}, {file("a/x", "1"), file("b/new", "n")}},
			want:   []string{"a/x=1", "b/new=n", "b/", "b/old=o"},
		},
		{
			name:   "duplicates in one layer are reported in tar order",
			layers: [][]ent{{file("a", "first"), file("a", "last")}},
			want:   []string{"a=first", "a=last"},
		},
		{
			name:   "duplicate file then directory in one layer: the directory keeps lower children",
			layers: [][]ent{{dir("d"), file("d/x", "1")}, {file("d", "f"), dir("d")}},
			want:   []string{"d=f", "d/", "d/x=1"},
		},
		{
			name:   "links are reported as they are, hard link targets cleaned",
			layers: [][]ent{{file("bin/a", "1"), hardlink("bin/b", "/bin/a"), symlink("bin/c", "/etc/../../x")}},
			want:   []string{"bin/a=1", "bin/b=>bin/a", "bin/c->/etc/../../x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tars := make([][]byte, len(tt.layers))
			for i, l := range tt.layers {
				tars[i] = tarOf(t, l...)
			}
			got, err := walked(t, imageOf(t, tars...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWalkMediaTypes(t *testing.T) {
	p := tarOf(t, file("a", "1"))
	for _, mt := range []string{ocispec.MediaTypeImageLayer, "application/vnd.docker.image.rootfs.diff.tar.gzip", ocispec.MediaTypeImageLayerGzip} {
		t.Run(mt, func(t *testing.T) {
			data := p
			if c, _ := layer.CompressionOf(mt); c == layer.Gzip {
				data = gz(t, p)
			}
			got, err := walked(t, imageOfBlobs(t, [][]byte{p}, image.BytesBlob(mt, data)))
			require.NoError(t, err)
			assert.Equal(t, []string{"a=1"}, got)
		})
	}
}

func TestWalkBadInput(t *testing.T) {
	good := tarOf(t, file("ok", "1"))
	full := tarOf(t, file("big", string(bytes.Repeat([]byte("x"), 4096))))
	bomb := tarOf(t, file("zeros", string(make([]byte, 8<<20))))
	tests := []struct {
		name  string
		layer image.Blob
		opts  []files.Option
		check func(t *testing.T, err error)
	}{
		{
			name:  "dot-dot name",
			layer: gzBlob(t, tarOf(t, file("../evil", "x"))),
			check: unsafeName("../evil", ""),
		},
		{
			name:  "dot-dot in the middle that climbs out",
			layer: gzBlob(t, tarOf(t, file("a/../../evil", "x"))),
			check: unsafeName("a/../../evil", ""),
		},
		{
			name:  "absolute dot-dot",
			layer: gzBlob(t, tarOf(t, file("/../evil", "x"))),
			check: unsafeName("/../evil", ""),
		},
		{
			name:  "hard link escape",
			layer: gzBlob(t, tarOf(t, hardlink("l", "../../etc/passwd"))),
			check: unsafeName("l", "../../etc/passwd"),
		},
		{
			name:  "truncated gzip layer",
			layer: image.BytesBlob(ocispec.MediaTypeImageLayerGzip, halve(gz(t, full))),
			check: wraps(io.ErrUnexpectedEOF),
		},
		{
			name:  "truncated plain layer",
			layer: image.BytesBlob(ocispec.MediaTypeImageLayer, full[:1024]),
			check: wraps(io.ErrUnexpectedEOF),
		},
		{
			name:  "not a layer media type",
			layer: image.BytesBlob("application/vnd.example.thing", good),
			check: func(t *testing.T, err error) {
				var ue *layer.UnsupportedError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, "application/vnd.example.thing", ue.MediaType)
			},
		},
		{
			name:  "gzip bomb past the layer size limit",
			layer: gzBlob(t, bomb),
			opts:  []files.Option{files.WithMaxLayerSize(1 << 20)},
			check: limit("layer size", 1<<20),
		},
		{
			name:  "sparse bomb past the layer size limit",
			layer: gzBlob(t, sparseBomb(t)),
			opts:  []files.Option{files.WithMaxLayerSize(1 << 20)},
			check: limit("layer size", 1<<20),
		},
		{
			name:  "long names past the entry memory limit",
			layer: gzBlob(t, tarOf(t, file(strings.Repeat("n", 300), ""), file(strings.Repeat("m", 300), ""))),
			opts:  []files.Option{files.WithMaxEntries(4)},
			check: limit("entry names", 4*128),
		},
		{
			name:  "more paths than the entry limit",
			layer: gzBlob(t, tarOf(t, file("a", ""), file("b", ""), file("c", ""))),
			opts:  []files.Option{files.WithMaxEntries(2)},
			check: limit("entries", 2),
		},
		{
			name:  "not a tar",
			layer: gzBlob(t, bytes.Repeat([]byte("not a tar "), 100)),
			check: func(t *testing.T, err error) { require.Error(t, err) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad layer sits on a good base, at index 1.
			img := imageOfBlobs(t, nil, gzBlob(t, good), tt.layer)
			_, err := walked(t, img, tt.opts...)
			var le *files.LayerError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 1, le.Index)
			assert.Equal(t, tt.layer.Descriptor().Digest, le.Digest)
			tt.check(t, err)

			var buf bytes.Buffer
			err = files.Flatten(context.Background(), img, &buf, tt.opts...)
			require.ErrorAs(t, err, &le)
			tt.check(t, err)
		})
	}
}

func TestWalkLimitsPass(t *testing.T) {
	img := imageOf(t, tarOf(t, file("a", "12345")), tarOf(t, file("b", ""), wh(".wh.a")))
	got, err := walked(t, img, files.WithMaxEntries(2), files.WithMaxLayerSize(int64(len(tarOf(t, file("a", "12345"))))))
	require.NoError(t, err)
	assert.Equal(t, []string{"b="}, got)
}

func TestWalkCallback(t *testing.T) {
	img := imageOf(t, tarOf(t, file("a", "1"), file("b", "2")), tarOf(t, file("c", "3")))
	ctx := context.Background()

	var n int
	err := files.Walk(ctx, img, func(*tar.Header, io.Reader) error { n++; return fs.SkipAll })
	require.NoError(t, err)
	assert.Equal(t, 1, n, "SkipAll stops at once")

	mine := errors.New("mine")
	err = files.Walk(ctx, img, func(*tar.Header, io.Reader) error { return mine })
	assert.Same(t, mine, err, "the callback's error comes back as it is")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = files.Walk(cctx, img, func(*tar.Header, io.Reader) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
}

func gzBlob(t testing.TB, p []byte) image.Blob {
	return image.BytesBlob(ocispec.MediaTypeImageLayerGzip, gz(t, p))
}

func unsafeName(name, link string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var ue *files.UnsafeNameError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, name, ue.Name)
		assert.Equal(t, link, ue.Linkname)
	}
}

func wraps(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) { assert.ErrorIs(t, err, target) }
}

func limit(what string, n int64) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var le *files.LimitError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, what, le.What)
		assert.Equal(t, n, le.Limit)
	}
}

func halve(p []byte) []byte { return p[:len(p)/2] }

// sparseBomb returns a tar holding a GNU sparse file of one stored byte
// that reads back as 1 GiB: the tar is 2 KiB, and no compression is
// involved, so only a bound on what is read stops it.
func sparseBomb(t *testing.T) []byte {
	t.Helper()
	const real = 1 << 30
	hdr := make([]byte, 512)
	field := func(off, n int, v int64) { copy(hdr[off:off+n], fmt.Sprintf("%0*o\x00", n-1, v)) }
	copy(hdr, "bomb")
	field(100, 8, 0o644)
	field(108, 8, 0)
	field(116, 8, 0)
	field(124, 12, 1) // stored bytes
	field(136, 12, 0)
	hdr[156] = tar.TypeGNUSparse
	copy(hdr[257:], "ustar  \x00")
	field(386, 12, real-1) // one fragment: the last byte
	field(398, 12, 1)
	field(483, 12, real)
	copy(hdr[148:156], "        ")
	var sum int64
	for _, c := range hdr {
		sum += int64(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	out := append(hdr, make([]byte, 512)...)
	out[512] = 'x'
	return append(out, make([]byte, 1024)...)
}
