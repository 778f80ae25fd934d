package layer_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image/layer"
)

// encode encodes l into memory and checks that the descriptor and diff_id
// it returns are those of the bytes.
func encode(t *testing.T, l *layer.Layer) (layer.Info, []byte) {
	t.Helper()
	var buf bytes.Buffer
	info, err := l.Encode(t.Context(), &buf)
	require.NoError(t, err)
	require.Equal(t, digest.FromBytes(buf.Bytes()), info.Descriptor.Digest)
	require.Equal(t, int64(buf.Len()), info.Descriptor.Size)
	require.Equal(t, l.MediaType(), info.Descriptor.MediaType)
	rc, err := layer.Decompress(info.Descriptor.MediaType, bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	h := sha256.New()
	_, err = io.Copy(h, rc)
	require.NoError(t, err)
	require.Equal(t, digest.NewDigest(digest.SHA256, h), info.DiffID, "diff_id")
	return info, buf.Bytes()
}

// headers returns the tar headers of an encoded layer, and the contents
// of its regular files.
func headers(t *testing.T, mediaType string, b []byte) ([]*tar.Header, map[string]string) {
	t.Helper()
	rc, err := layer.Decompress(mediaType, bytes.NewReader(b))
	require.NoError(t, err)
	tr := tar.NewReader(rc)
	var hs []*tar.Header
	content := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hs, content
		}
		require.NoError(t, err)
		hs = append(hs, h)
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			content[h.Name] = string(data)
		}
	}
}

func names(hs []*tar.Header) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

// tree writes files (name: content; a name ending in "/" is a directory,
// content "->target" a symlink) under a new temporary directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch {
		case name[len(name)-1] == '/':
			require.NoError(t, os.MkdirAll(p, 0o755))
		case len(content) > 2 && content[:2] == "->":
			require.NoError(t, os.Symlink(content[2:], p))
		default:
			require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		}
	}
	return dir
}

// tarOf returns a tar of the given headers, each regular file holding
// its name as content.
func tarOf(t *testing.T, hs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hs {
		var body []byte
		if h.Typeflag == tar.TypeReg {
			body = []byte(h.Name)
			h.Size = int64(len(body))
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// exampleDir returns a directory holding etc/motd, for the examples.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "layer-example-")
	if err != nil {
		panic(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "motd"), []byte("hello\n"), 0o644); err != nil {
		panic(err)
	}
	return dir
}
