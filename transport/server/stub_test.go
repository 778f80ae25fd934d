package server_test

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// stubBackend is a fake.Store whose behaviour tests can bend: errors a real
// backend may return, readers that cannot seek, session IDs that are URLs.
type stubBackend struct {
	*fake.Store

	panicGetManifest bool
	statBlobErr      error // StatBlob fails with it
	listTagsErr      error
	listReposErr     error
	referrersErr     error
	mountErr         error
	tagDeleteErr     error // DeleteManifest of a tag fails with it
	plainBlobs       bool  // GetBlob's reader only reads
	allReferrers     bool  // ListReferrers ignores artifactType
	idPrefix         string

	mu          sync.Mutex
	deletedTags []string
}

var (
	_ transport.Transport  = (*stubBackend)(nil)
	_ transport.TagDeleter = (*stubBackend)(nil)
	_ transport.BlobWriter = prefixedWriter{}
	_ io.ReadCloser        = plainReader{}
)

func (s *stubBackend) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	if s.panicGetManifest {
		panic("the backend exploded")
	}
	return s.Store.GetManifest(ctx, repo, ref)
}

func (s *stubBackend) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	if s.statBlobErr != nil {
		return ocispec.Descriptor{}, s.statBlobErr
	}
	return s.Store.StatBlob(ctx, repo, d)
}

func (s *stubBackend) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	if s.listTagsErr != nil {
		return transport.Page[string]{}, s.listTagsErr
	}
	return s.Store.ListTags(ctx, repo, req)
}

func (s *stubBackend) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	if s.listReposErr != nil {
		return transport.Page[string]{}, s.listReposErr
	}
	return s.Store.ListRepositories(ctx, req)
}

func (s *stubBackend) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	if s.referrersErr != nil {
		return transport.Page[ocispec.Descriptor]{}, s.referrersErr
	}
	if s.allReferrers {
		artifactType = ""
	}
	return s.Store.ListReferrers(ctx, repo, subject, artifactType, req)
}

func (s *stubBackend) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	if s.mountErr != nil {
		return s.mountErr
	}
	return s.Store.MountBlob(ctx, repo, from, d)
}

func (s *stubBackend) DeleteManifest(ctx context.Context, repo, ref string) error {
	if s.tagDeleteErr != nil && !strings.Contains(ref, ":") {
		return s.tagDeleteErr
	}
	return s.Store.DeleteManifest(ctx, repo, ref)
}

func (s *stubBackend) DeleteTag(ctx context.Context, repo, tag string) (transport.TagDeletion, error) {
	s.mu.Lock()
	s.deletedTags = append(s.deletedTags, repo+":"+tag)
	s.mu.Unlock()
	return transport.TagDeleted, s.Store.DeleteManifest(ctx, repo, tag)
}

func (s *stubBackend) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	rc, desc, err := s.Store.GetBlob(ctx, repo, d)
	if err != nil || !s.plainBlobs {
		return rc, desc, err
	}
	return plainReader{rc}, desc, nil
}

func (s *stubBackend) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	w, err := s.Store.StartUpload(ctx, repo)
	if err != nil || s.idPrefix == "" {
		return w, err
	}
	return prefixedWriter{w, s.idPrefix}, nil
}

func (s *stubBackend) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	if s.idPrefix == "" {
		return s.Store.ResumeUpload(ctx, repo, id)
	}
	raw, ok := strings.CutPrefix(id, s.idPrefix)
	if !ok {
		return nil, transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q not found", id)
	}
	w, err := s.Store.ResumeUpload(ctx, repo, raw)
	if err != nil {
		return nil, err
	}
	return prefixedWriter{w, s.idPrefix}, nil
}

// plainReader hides every method of a reader but Read and Close.
type plainReader struct{ rc io.ReadCloser }

func (r plainReader) Read(p []byte) (int, error) { return r.rc.Read(p) }
func (r plainReader) Close() error               { return r.rc.Close() }

// prefixedWriter is a session whose ID has a prefix, as a proxied
// session's ID is an upstream URL.
type prefixedWriter struct {
	transport.BlobWriter
	prefix string
}

func (w prefixedWriter) ID() string { return w.prefix + w.BlobWriter.ID() }
