package regkit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// spied returns a source repository "app" holding img tagged 3.0 behind
// the spy s, and an empty destination "prod/app" on another store.
func spied(t *testing.T, s *spy, img *image.Image) (src, dst *repository.Repository, out *fake.Store) {
	t.Helper()
	store := fake.NewStore()
	_, err := repository.New(store, "app").Push(t.Context(), img, "3.0")
	require.NoError(t, err)
	s.Transport = store
	out = fake.NewStore()
	return repository.New(s, "app"), repository.New(out, "prod/app"), out
}

// TestCopyCorruptSource checks that bytes that do not match their
// descriptor fail the copy, and that nothing is tagged in dst.
func TestCopyCorruptSource(t *testing.T) {
	t.Parallel()
	img := testImage(t, "app", "linux/amd64", 4, false)
	layer := img.Layers()[2].Descriptor().Digest
	tests := []struct {
		name string
		spy  *spy
		want error
	}{
		{name: "changed byte", spy: &spy{corrupt: layer}, want: transport.ErrDigestInvalid},
		{name: "extra byte", spy: &spy{extra: layer}, want: transport.ErrSizeInvalid},
		{name: "source fails", spy: &spy{fail: layer}, want: transport.ErrDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, dst, out := spied(t, tc.spy, img)
			_, err := regkit.Copy(t.Context(), src, "3.0", dst, nil)
			require.ErrorIs(t, err, tc.want)
			// The error names the operation, the blob and where it was read.
			require.Regexp(t, `^copy app:3\.0 to prod/app: (read|get) blob `+layer.String()+` in app: `, err.Error())
			requireNoTag(t, dst, "3.0")
			_, err = dst.Resolve(t.Context(), img.Descriptor().Digest.String())
			require.ErrorIs(t, err, transport.ErrNotFound, "no manifest in dst")
			_, err = out.StatBlob(t.Context(), "prod/app", layer)
			require.ErrorIs(t, err, transport.ErrNotFound, "the bad blob is not stored")
			open, _, _ := tc.spy.counts()
			require.Zero(t, open, "every blob reader closed")
		})
	}
}

// TestCopyConcurrency checks with a slow source that blobs are copied in
// parallel, never more at once than Concurrency.
func TestCopyConcurrency(t *testing.T) {
	t.Parallel()
	img := testImage(t, "app", "linux/amd64", 11, false)
	tests := []struct {
		name        string
		concurrency int
		want        int
	}{
		{name: "default", concurrency: 0, want: 8},
		{name: "negative means default", concurrency: -1, want: 8},
		{name: "one at a time", concurrency: 1, want: 1},
		{name: "three", concurrency: 3, want: 3},
		{name: "more than blobs", concurrency: 50, want: 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &spy{gateAt: tc.want, gate: make(chan struct{})}
			src, dst, _ := spied(t, s, img)
			rep, err := regkit.Copy(t.Context(), src, "3.0", dst, &regkit.CopyOptions{Concurrency: tc.concurrency})
			require.NoError(t, err)
			open, maxOpen, gets := s.counts()
			require.Zero(t, open)
			require.Equal(t, 12, gets)
			require.Equal(t, tc.want, maxOpen, "blobs read at once")
			require.Equal(t, 12, rep.Count(regkit.Copied)-1)
			requireBlobs(t, dst, img)
		})
	}
}

// TestCopyFirstErrorCancels checks that the first failure cancels the blob
// copies under way, and that Copy returns only once all have stopped.
func TestCopyFirstErrorCancels(t *testing.T) {
	t.Parallel()
	img := testImage(t, "app", "linux/amd64", 8, false)
	s := &spy{fail: img.Layers()[1].Descriptor().Digest, block: true}
	src, dst, _ := spied(t, s, img)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Concurrency: 3})
	require.ErrorIs(t, err, errBoom)
	require.Less(t, time.Since(start), 10*time.Second, "the blocked copies were cancelled")
	open, _, gets := s.counts()
	require.Zero(t, open, "no copy left running")
	require.LessOrEqual(t, gets, 3, "no copy started after the failure")
	requireNoTag(t, dst, "3.0")
}

// TestCopyCancelled checks that a cancelled context stops the copy.
func TestCopyCancelled(t *testing.T) {
	t.Parallel()
	img := testImage(t, "app", "linux/amd64", 8, false)
	s := &spy{block: true}
	src, dst, _ := spied(t, s, img)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := regkit.Copy(ctx, src, "3.0", dst, nil)
	require.ErrorIs(t, err, context.Canceled)
	open, _, _ := s.counts()
	require.Zero(t, open)
}

// TestCopyMountFallback checks, on one registry, that blobs are mounted, and
// copied instead when the registry refuses mounts.
func TestCopyMountFallback(t *testing.T) {
	t.Parallel()
	img := testImage(t, "app", "linux/amd64", 2, false)
	tests := []struct {
		name     string
		mountErr error
		want     regkit.CopyAction
		wantErr  error
	}{
		{name: "mounted", want: regkit.Mounted},
		{name: "unsupported", mountErr: transport.ErrUnsupported, want: regkit.Copied},
		{name: "blob unknown", mountErr: transport.Errorf(transport.CodeBlobUnknown, "not in app"), want: regkit.Copied},
		{name: "denied", mountErr: transport.ErrDenied, want: regkit.Copied},
		{name: "unauthorized", mountErr: transport.ErrUnauthorized, want: regkit.Copied},
		{name: "other errors fail", mountErr: transport.ErrTooManyRequests, wantErr: transport.ErrTooManyRequests},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := fake.NewStore()
			_, err := repository.New(store, "app").Push(t.Context(), img, "3.0")
			require.NoError(t, err)
			s := &spy{Transport: store, mountErr: tc.mountErr}
			src, dst := repository.New(s, "app"), repository.New(s, "prod/app")
			rep, err := regkit.Copy(t.Context(), src, "3.0", dst, nil)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Contains(t, err.Error(), "mount blob")
				requireNoTag(t, dst, "3.0")
				return
			}
			require.NoError(t, err)
			require.Equal(t, 3, s.mounts)
			for _, b := range rep.Blobs {
				require.Equal(t, tc.want, b.Action)
			}
			requireBlobs(t, dst, img)
		})
	}
}

// valueTransport is a Transport held by value and not comparable, as a
// user's transport may be.
type valueTransport struct {
	transport.Transport
	notes []string
}

// TestCopyUncomparableTransport checks that a transport that cannot be
// compared is taken for another registry rather than panicking.
func TestCopyUncomparableTransport(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	img := testImage(t, "app", "linux/amd64", 1, false)
	_, err := repository.New(store, "app").Push(t.Context(), img, "3.0")
	require.NoError(t, err)
	vt := valueTransport{Transport: store, notes: []string{"x"}}
	rep, err := regkit.Copy(t.Context(), repository.New(vt, "app"), "3.0", repository.New(vt, "prod/app"), nil)
	require.NoError(t, err)
	// The store already holds the bytes, but prod/app does not: they are
	// read and verified, then shared.
	require.Equal(t, 2, rep.Count(regkit.Copied)-1)
}

// faulty fails some calls of a Transport.
type faulty struct {
	transport.Transport
	putFail      string // PutManifest of this ref fails
	headErr      error  // HeadManifest of a digest fails with it
	headTagErr   error  // HeadManifest of a tag fails with it
	referrersErr error  // ListReferrers fails with it
}

func (f *faulty) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	if ref == f.putFail {
		return ocispec.Descriptor{}, errors.Join(transport.ErrManifestInvalid, errors.New("refused"))
	}
	return f.Transport.PutManifest(ctx, repo, ref, mediaType, body, opts)
}

func (f *faulty) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	if err := f.headErr; err != nil && strings.Contains(ref, ":") {
		return ocispec.Descriptor{}, err
	}
	if err := f.headTagErr; err != nil && !strings.Contains(ref, ":") {
		return ocispec.Descriptor{}, err
	}
	return f.Transport.HeadManifest(ctx, repo, ref)
}

func (f *faulty) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	if f.referrersErr != nil {
		return transport.Page[ocispec.Descriptor]{}, f.referrersErr
	}
	return f.Transport.ListReferrers(ctx, repo, subject, artifactType, req)
}

// TestCopyTransportErrors checks that failures of the source or the
// destination fail the copy with an error that says where, matches the
// transport's error, and leaves no new tag.
func TestCopyTransportErrors(t *testing.T) {
	t.Parallel()
	img := testImage(t, "app", "linux/amd64", 1, false)
	subject := img.Descriptor()
	sbom := artifact(t, "application/spdx+json", "{}", subject)
	tests := []struct {
		name       string
		src, dst   *faulty
		precopy    bool // dst has the image already, untagged
		want       error
		contains   string
		imageInDst bool
	}{
		{name: "referrer put fails", src: &faulty{}, dst: &faulty{putFail: sbom.Descriptor().Digest.String()},
			want: transport.ErrManifestInvalid, contains: "put manifest " + sbom.Descriptor().Digest.String(), imageInDst: true},
		{name: "tag put fails", src: &faulty{}, dst: &faulty{putFail: "3.0"},
			want: transport.ErrManifestInvalid, contains: "tag " + subject.Digest.String() + " as 3.0", imageInDst: true},
		{name: "manifest check fails", src: &faulty{}, dst: &faulty{headErr: transport.ErrUnauthorized},
			want: transport.ErrUnauthorized, contains: "check manifest " + subject.Digest.String()},
		{name: "tag check fails", src: &faulty{}, dst: &faulty{headTagErr: transport.ErrDenied}, precopy: true,
			want: transport.ErrDenied, contains: "check tag 3.0", imageInDst: true},
		{name: "referrers list fails", src: &faulty{referrersErr: transport.ErrTooManyRequests}, dst: &faulty{},
			want: transport.ErrTooManyRequests, contains: "referrers of " + subject.Digest.String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			tc.src.Transport, tc.dst.Transport = fake.NewStore(), fake.NewStore()
			src, dst := repository.New(tc.src, "app"), repository.New(tc.dst, "prod/app")
			_, err := src.Push(ctx, img, "3.0")
			require.NoError(t, err)
			_, err = src.Push(ctx, sbom)
			require.NoError(t, err)
			if tc.precopy {
				_, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Tags: []string{}})
				require.NoError(t, err)
			}
			_, err = regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{Referrers: true})
			require.ErrorIs(t, err, tc.want)
			require.Contains(t, err.Error(), "copy app:3.0 to prod/app: ")
			require.Contains(t, err.Error(), tc.contains)
			_, err = tc.dst.Transport.HeadManifest(ctx, "prod/app", "3.0")
			require.ErrorIs(t, err, transport.ErrNotFound, "no tag")
			_, err = tc.dst.Transport.HeadManifest(ctx, "prod/app", subject.Digest.String())
			require.Equal(t, tc.imageInDst, err == nil, "image in dst: %v", err)
		})
	}
}
