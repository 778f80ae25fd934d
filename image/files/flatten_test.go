package files_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/files"
)

// entries returns the entries of a tar as describe writes them, with
// directory names as written (trailing slash).
func entries(t *testing.T, p []byte) []string {
	t.Helper()
	var got []string
	tr := tar.NewReader(bytes.NewReader(p))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return got
		}
		require.NoError(t, err)
		if hdr.Typeflag == tar.TypeDir {
			got = append(got, hdr.Name)
			continue
		}
		s, err := describe(hdr, tr)
		require.NoError(t, err)
		got = append(got, s)
	}
}

func TestFlatten(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent
		want   []string
	}{
		{
			name: "whiteouts applied and not written",
			layers: [][]ent{
				{dir("etc"), file("etc/a", "1"), file("etc/b", "2"), dir("var"), file("var/x", "3")},
				{wh("etc/.wh.a"), wh("var/.wh..wh..opq"), file("var/y", "4")},
				{file("etc/b", "new"), symlink("etc/c", "b"), hardlink("etc/d", "etc/b")},
			},
			want: []string{"etc/b=new", "etc/c->b", "etc/d=>etc/b", "var/y=4", "etc/", "var/"},
		},
		{
			name:   "duplicates kept in order, so extraction gives the last",
			layers: [][]ent{{file("a", "first"), file("a", "last")}},
			want:   []string{"a=first", "a=last"},
		},
		{
			name:   "empty image",
			layers: nil,
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tars := make([][]byte, len(tt.layers))
			for i, l := range tt.layers {
				tars[i] = tarOf(t, l...)
			}
			var buf bytes.Buffer
			require.NoError(t, files.Flatten(context.Background(), imageOf(t, tars...), &buf))
			assert.Equal(t, tt.want, entries(t, buf.Bytes()))
		})
	}
}

func TestFlattenKeepsAttributes(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{
		Name: "./bin/ping", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 1, Uid: 7, Gid: 8, Uname: "u", Gname: "g",
		PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "cap", "path": "./bin/ping"},
	}))
	_, err := tw.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())

	var out bytes.Buffer
	require.NoError(t, files.Flatten(context.Background(), imageOf(t, buf.Bytes()), &out))
	tr := tar.NewReader(&out)
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, "bin/ping", hdr.Name)
	assert.Equal(t, int64(0o4755), hdr.Mode)
	assert.Equal(t, []int{7, 8}, []int{hdr.Uid, hdr.Gid})
	assert.Equal(t, "cap", hdr.PAXRecords["SCHILY.xattr.security.capability"])
	_, err = tr.Next()
	assert.Equal(t, io.EOF, err)
}
