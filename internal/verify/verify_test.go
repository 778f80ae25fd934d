package verify

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

func TestReader(t *testing.T) {
	t.Parallel()
	content := []byte("some blob content")
	d := digest.FromBytes(content)
	tests := []struct {
		name    string
		desc    ocispec.Descriptor
		data    []byte
		wantErr error
	}{
		{"matches", ocispec.Descriptor{Digest: d, Size: int64(len(content))}, content, nil},
		{"unknown size", ocispec.Descriptor{Digest: d, Size: -1}, content, nil},
		{"sha512", ocispec.Descriptor{Digest: digest.SHA512.FromBytes(content), Size: int64(len(content))}, content, nil},
		{"wrong digest", ocispec.Descriptor{Digest: digest.FromString("x"), Size: int64(len(content))}, content, transport.ErrDigestInvalid},
		{"too long", ocispec.Descriptor{Digest: d, Size: 4}, content, transport.ErrSizeInvalid},
		{"too short", ocispec.Descriptor{Digest: d, Size: int64(len(content))}, content[:5], transport.ErrSizeInvalid},
		{"corrupted", ocispec.Descriptor{Digest: d, Size: int64(len(content))}, bytes.ToUpper(content), transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReader(io.NopCloser(bytes.NewReader(tc.data)), tc.desc)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, err = io.ReadAll(r)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadAll = %v, want %v", err, tc.wantErr)
			}
			// The error sticks.
			if _, again := r.Read(make([]byte, 1)); tc.wantErr != nil && !errors.Is(again, tc.wantErr) {
				t.Errorf("second Read = %v, want %v", again, tc.wantErr)
			}
		})
	}
}

func TestNewReaderBadDigest(t *testing.T) {
	t.Parallel()
	if _, err := NewReader(io.NopCloser(bytes.NewReader(nil)), ocispec.Descriptor{Digest: "sha256:abc"}); !errors.Is(err, transport.ErrDigestInvalid) {
		t.Fatalf("NewReader(bad digest) = %v, want ErrDigestInvalid", err)
	}
}
