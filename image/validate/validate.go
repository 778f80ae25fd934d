package validate

import (
	"archive/tar"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
)

// Image checks img end to end. If its config is an image config (the OCI
// or Docker config type, or any config of a Docker manifest), the config
// must match its descriptor and list one diff_id per layer (else an
// [*image.DiffIDCountError]), and each layer must be a tar, compressed as
// its media type says, whose bytes match the layer's descriptor and whose
// uncompressed bytes hash to its diff_id. An artifact's config and layers
// are checked against their descriptors only. The first problem found is
// returned; a layer's is a [*LayerError].
func Image(ctx context.Context, img *image.Image) error {
	m := img.Manifest()
	if !img.HasImageConfig() {
		if err := checkBlob(ctx, img.Config()); err != nil {
			return fmt.Errorf("config %s: %w", m.Config.Digest, err)
		}
		for i, l := range img.Layers() {
			if err := checkLayer(ctx, i, l, ""); err != nil {
				return err
			}
		}
		return nil
	}
	cfg, err := img.ConfigFile(ctx)
	if err != nil {
		return err
	}
	layers := img.Layers()
	if n := len(cfg.RootFS.DiffIDs); n != len(layers) {
		return &image.DiffIDCountError{DiffIDs: n, Layers: len(layers)}
	}
	for i, l := range layers {
		if err := checkLayer(ctx, i, l, cfg.RootFS.DiffIDs[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkBlob reads b whole and checks its size and digest.
func checkBlob(ctx context.Context, b image.Blob) error {
	d := b.Descriptor()
	rc, err := b.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := d.Digest.Algorithm().Hash()
	n, err := io.Copy(h, rc)
	if err != nil {
		return err
	}
	if n != d.Size {
		return fmt.Errorf("%w: %d bytes, descriptor says %d", image.ErrInvalid, n, d.Size)
	}
	if got := digest.NewDigest(d.Digest.Algorithm(), h); got != d.Digest {
		return fmt.Errorf("%w: bytes hash to %s", image.ErrInvalid, got)
	}
	return nil
}

// checkLayer reads layer i once: its size and digest, and, when diffID is
// set, its decompressed tar and the hash of it.
func checkLayer(ctx context.Context, i int, b image.Blob, diffID digest.Digest) error {
	d := b.Descriptor()
	fail := func(k Kind, want, got string, err error) error {
		return &LayerError{Index: i, Digest: d.Digest, Kind: k, Want: want, Got: got, Err: err}
	}
	if !d.Digest.Algorithm().Available() {
		return fail(DigestMismatch, "", "", fmt.Errorf("digest algorithm %q is not available", d.Digest.Algorithm()))
	}
	rc, err := b.Open(ctx)
	if err != nil {
		return fail(Unreadable, "", "", err)
	}
	defer rc.Close()
	src := &source{r: rc}
	raw := &counter{h: d.Digest.Algorithm().Hash()}
	r := io.TeeReader(src, raw)
	var tarErr error
	if diffID != "" {
		tarErr = checkTar(r, d.MediaType, diffID, fail)
	}
	// Read what the decompressor left (or the whole blob for an artifact).
	_, err = io.Copy(io.Discard, r)
	if src.err != nil {
		return fail(Unreadable, "", "", src.err)
	}
	if err != nil {
		return fail(Unreadable, "", "", err)
	}
	if raw.n != d.Size {
		return fail(SizeMismatch, strconv.FormatInt(d.Size, 10), strconv.FormatInt(raw.n, 10), nil)
	}
	if got := digest.NewDigest(d.Digest.Algorithm(), raw.h); got != d.Digest {
		return fail(DigestMismatch, d.Digest.String(), got.String(), nil)
	}
	return tarErr
}

// checkTar decompresses r as mediaType, walks the tar and hashes it.
func checkTar(r io.Reader, mediaType string, diffID digest.Digest, fail func(Kind, string, string, error) error) error {
	if !diffID.Algorithm().Available() {
		return fail(DiffIDMismatch, diffID.String(), "", fmt.Errorf("digest algorithm %q is not available", diffID.Algorithm()))
	}
	zr, err := layer.Decompress(mediaType, r)
	if err != nil {
		return fail(MediaTypeMismatch, mediaType, "", err)
	}
	defer zr.Close()
	h := diffID.Algorithm().Hash()
	tr := tar.NewReader(io.TeeReader(zr, h))
	for {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return tarFailure(err, mediaType, fail)
		}
	}
	// The tar ends at its zero blocks; the diff_id covers any padding after.
	if _, err := io.Copy(h, zr); err != nil {
		return tarFailure(err, mediaType, fail)
	}
	if got := digest.NewDigest(diffID.Algorithm(), h); got != diffID {
		return fail(DiffIDMismatch, diffID.String(), got.String(), nil)
	}
	return nil
}

// tarFailure classifies an error met while reading the tar: corrupt
// compressed data is a media type problem, a bad archive is not a tar,
// anything else is a read error.
func tarFailure(err error, mediaType string, fail func(Kind, string, string, error) error) error {
	var unsupported *layer.UnsupportedError
	switch {
	case errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF):
		return fail(NotTar, "", "", err)
	case errors.As(err, &unsupported), isCompressionError(err):
		return fail(MediaTypeMismatch, mediaType, "", err)
	}
	return fail(Unreadable, "", "", err)
}

// source is the blob's reader, keeping its first error apart from the
// decompressor's.
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// isCompressionError reports whether err is corrupt compressed data.
func isCompressionError(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &corrupt)
}

// counter hashes and counts what is written to it.
type counter struct {
	h hash.Hash
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}
