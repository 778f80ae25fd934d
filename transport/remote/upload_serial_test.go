package remote_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/remote"
)

// openOnRead is a body that opens its source on its first Read, as
// regkit.Copy's does.
type openOnRead struct {
	open func() (io.ReadCloser, error)
	rc   io.ReadCloser
}

func (o *openOnRead) Read(p []byte) (int, error) {
	if o.rc == nil {
		rc, err := o.open()
		if err != nil {
			return 0, err
		}
		o.rc = rc
	}
	return o.rc.Read(p)
}

// TestPutBlobFromSameSerialRegistry uploads a blob whose body is another
// repository's blob on the same registry, fetched on the body's first read,
// to a registry that serves one request at a time: the GET is sent and
// answered before the upload's PUT (or PATCH) holds the registry, in one
// streamed PUT and in chunks alike. A blob the registry has is not read.
func TestPutBlobFromSameSerialRegistry(t *testing.T) {
	t.Parallel()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	for _, tc := range []struct {
		name string
		opts []remote.Option
	}{
		{name: "whole"},
		{name: "chunked", opts: []remote.Option{remote.WithChunkSize(32 << 10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, fake.WithProfile(fake.ProfileSerial))
			c, err := remote.New(srv.Host, tc.opts...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			require.NoError(t, c.PutBlob(ctx, "a", desc, bytes.NewReader(blob)))

			opens := 0
			body := func() io.Reader {
				return &openOnRead{open: func() (io.ReadCloser, error) {
					opens++
					rc, _, err := c.GetBlob(ctx, "a", desc.Digest)
					return rc, err
				}}
			}
			require.NoError(t, c.PutBlob(ctx, "b", desc, body()))
			require.Equal(t, 1, opens)
			require.NoError(t, c.PutBlob(ctx, "b", desc, body()), "again: the registry has it")
			require.Equal(t, 1, opens, "a blob the registry has is not read")

			rc, _, err := c.GetBlob(ctx, "b", desc.Digest)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			require.Equal(t, blob, got)
		})
	}
}
