package regkit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// testImage builds an image for os/arch with n layers whose bytes depend on
// name, so different names give different blobs. docker makes a Docker
// schema 2 image.
func testImage(t testing.TB, name, platform string, n int, docker bool) *image.Image {
	t.Helper()
	p, err := image.ParsePlatform(platform)
	require.NoError(t, err)
	cfgType, layerType, opts := ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayer, (*image.Options)(nil)
	if docker {
		cfgType, layerType = image.MediaTypeDockerConfig, image.MediaTypeDockerLayer
		opts = &image.Options{MediaType: image.MediaTypeDockerManifest}
	}
	contents := make([][]byte, n)
	for i := range contents {
		contents[i] = []byte(fmt.Sprintf("%s %s layer %d %s", name, platform, i, bytes.Repeat([]byte{'x'}, i*10)))
	}
	img, err := testimage.Image(p, cfgType, layerType, contents, map[string]string{"name": name}, opts)
	require.NoError(t, err)
	return img
}

// artifact builds an artifact of artifactType whose subject is subject.
func artifact(t testing.TB, artifactType, content string, subject ocispec.Descriptor) *image.Image {
	t.Helper()
	a, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		[]image.Blob{image.BytesBlob(artifactType, []byte(content))},
		&image.Options{ArtifactType: artifactType, Subject: &subject})
	require.NoError(t, err)
	return a
}

// blobSizes returns the total size of img's config and layers.
func blobSizes(img *image.Image) int64 {
	var n int64
	for _, b := range img.Blobs() {
		n += b.Descriptor().Size
	}
	return n
}

// requireSameManifest checks that dst has the manifest d with the exact
// bytes src has.
func requireSameManifest(t *testing.T, src, dst *repository.Repository, d digest.Digest) {
	t.Helper()
	ctx := t.Context()
	_, want, err := src.Manifest(ctx, d)
	require.NoError(t, err)
	_, got, err := dst.Manifest(ctx, d)
	require.NoError(t, err, "dst has %s", d)
	require.Equal(t, want, got)
}

// requireBlobs checks that dst serves every blob of img, verified.
func requireBlobs(t *testing.T, dst *repository.Repository, img *image.Image) {
	t.Helper()
	for _, b := range img.Blobs() {
		rc, err := dst.Blob(t.Context(), b.Descriptor())
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		require.NoError(t, err, "blob %s verifies", b.Descriptor().Digest)
	}
}

// requireNoTag checks that dst has no tag tag.
func requireNoTag(t *testing.T, dst *repository.Repository, tag string) {
	t.Helper()
	_, err := dst.Resolve(t.Context(), tag)
	require.ErrorIs(t, err, transport.ErrNotFound, "tag %s must not exist", tag)
}

// spy wraps a Transport: it counts the blob readers open at once, can
// delay, fail, block or corrupt GetBlob, and can refuse mounts.
type spy struct {
	transport.Transport
	delay    time.Duration // GetBlob waits this long
	fail     digest.Digest // GetBlob of this blob fails with errBoom
	block    bool          // GetBlob of the other blobs waits for cancellation
	corrupt  digest.Digest // GetBlob of this blob serves one byte changed
	extra    digest.Digest // GetBlob of this blob serves one byte more
	mountErr error         // MountBlob fails with this
	// gateAt, when positive, makes GetBlob wait until that many GetBlob
	// calls are under way at once (instead of delay), so that a test of a
	// concurrency bound does not depend on timing.
	gateAt int
	gate   chan struct{}

	mu            sync.Mutex
	open, maxOpen int
	gets, mounts  int
}

// errBoom is the failure spy injects.
var errBoom = transport.Errorf(transport.CodeDenied, "boom")

func (s *spy) change(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open += delta
	if delta > 0 {
		s.gets++
	}
	s.maxOpen = max(s.maxOpen, s.open)
	if s.gateAt > 0 && s.open >= s.gateAt {
		select {
		case <-s.gate:
		default:
			close(s.gate)
		}
	}
}

func (s *spy) counts() (open, maxOpen, gets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open, s.maxOpen, s.gets
}

func (s *spy) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	s.change(1)
	fail := func(err error) (io.ReadCloser, ocispec.Descriptor, error) {
		s.change(-1)
		return nil, ocispec.Descriptor{}, err
	}
	delay := time.After(s.delay)
	if s.gateAt > 0 {
		// Should the bound never let gateAt calls in, give up waiting:
		// the test then sees fewer at once than it wants.
		delay = time.After(10 * time.Second)
	}
	select {
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-delay:
	case <-s.gate: // nil, so never, without gateAt
	}
	switch {
	case d == s.fail:
		return fail(errBoom)
	case s.block:
		<-ctx.Done()
		return fail(ctx.Err())
	}
	rc, desc, err := s.Transport.GetBlob(ctx, repo, d)
	if err != nil {
		return fail(err)
	}
	if d == s.corrupt || d == s.extra {
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fail(err)
		}
		if d == s.corrupt {
			b[len(b)-1] ^= 0xff
		} else {
			b = append(b, '!')
		}
		rc = io.NopCloser(bytes.NewReader(b))
	}
	return &spyReader{ReadCloser: rc, done: func() { s.change(-1) }}, desc, nil
}

func (s *spy) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	s.mu.Lock()
	s.mounts++
	s.mu.Unlock()
	if s.mountErr != nil {
		return s.mountErr
	}
	return s.Transport.MountBlob(ctx, repo, from, d)
}

// spyReader calls done once, when closed.
type spyReader struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (r *spyReader) Close() error {
	r.once.Do(r.done)
	return r.ReadCloser.Close()
}
