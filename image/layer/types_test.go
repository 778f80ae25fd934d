package layer_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/layer"
)

func TestFromTarEntryTypes(t *testing.T) {
	tests := []struct {
		name string
		hdr  *tar.Header
		want byte // the type stored; 0 when the entry is refused
	}{
		{"regular", &tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644}, tar.TypeReg},
		{"directory", &tar.Header{Name: "d", Typeflag: tar.TypeDir, Mode: 0o755}, tar.TypeDir},
		{"symlink", &tar.Header{Name: "s", Typeflag: tar.TypeSymlink, Linkname: "/bin/sh"}, tar.TypeSymlink},
		{"hard link", &tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "ok"}, tar.TypeLink},
		{"char device", &tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}, tar.TypeChar},
		{"block device", &tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Mode: 0o660, Devmajor: 8}, tar.TypeBlock},
		{"fifo", &tar.Header{Name: "run/pipe", Typeflag: tar.TypeFifo, Mode: 0o600}, tar.TypeFifo},
		{"unknown type", &tar.Header{Name: "z", Typeflag: 'Z', Mode: 0o644}, 0},
		{"contiguous file", &tar.Header{Name: "c", Typeflag: tar.TypeCont, Mode: 0o644}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tarOf(t, &tar.Header{Name: "ok", Typeflag: tar.TypeReg}, tt.hdr)
			if tt.want == 0 {
				_, err := layer.FromTar(bytes.NewReader(in)).Encode(t.Context(), &bytes.Buffer{})
				require.ErrorIs(t, err, layer.ErrUnsupportedType)
				var ee *layer.EntryError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, tt.hdr.Name, ee.Name)
				return
			}
			info, b := encode(t, layer.FromTar(bytes.NewReader(in)))
			hs, _ := headers(t, info.Descriptor.MediaType, b)
			require.Len(t, hs, 2)
			h := hs[1]
			assert.Equal(t, tt.want, h.Typeflag)
			assert.Equal(t, tt.hdr.Mode, h.Mode)
			assert.Equal(t, tt.hdr.Devmajor, h.Devmajor)
			assert.Equal(t, tt.hdr.Devminor, h.Devminor)
		})
	}
}

// A GNU sparse file ('S') is stored as the regular file it reads as.
func TestFromTarGNUSparse(t *testing.T) {
	info, b := encode(t, layer.FromTar(bytes.NewReader(gnuSparseTar(t))))
	hs, content := headers(t, info.Descriptor.MediaType, b)
	require.Len(t, hs, 1)
	assert.Equal(t, byte(tar.TypeReg), hs[0].Typeflag)
	assert.Equal(t, int64(8), hs[0].Size)
	assert.Equal(t, "\x00\x00\x00\x00data", content["sparse"])
}

// gnuSparseTar returns a tar holding one old-GNU sparse file of 8 bytes:
// a hole of 4, then "data". archive/tar cannot write one, so the header
// of a regular file is patched.
func gnuSparseTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "sparse", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4, Format: tar.FormatGNU}))
	_, err := tw.Write([]byte("data"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	b := buf.Bytes()
	b[156] = tar.TypeGNUSparse
	copy(b[386:], "00000000004\x00") // first sparse entry: offset 4
	copy(b[398:], "00000000004\x00") // length 4
	copy(b[483:], "00000000010\x00") // real size 8
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}
