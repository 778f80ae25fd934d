package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

var specsVersioned = specs.Versioned{SchemaVersion: 2}

// checkErr fails t unless err matches want with errors.Is (nil: no error).
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s = %v, want no error", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %v", what, err, want)
	}
}

// sameDesc reports whether a and b have the same media type, digest, size
// and artifact type.
func sameDesc(a, b ocispec.Descriptor) bool {
	return a.MediaType == b.MediaType && a.Digest == b.Digest && a.Size == b.Size && a.ArtifactType == b.ArtifactType
}

// descOf describes data as a blob, digested with alg.
func descOf(alg digest.Algorithm, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType: "application/octet-stream",
		Digest:    alg.FromBytes(data),
		Size:      int64(len(data)),
	}
}

// putBlob stores data as a sha256 blob of repo.
func putBlob(t *testing.T, s *Store, repo string, data []byte) ocispec.Descriptor {
	t.Helper()
	return putBlobAlg(t, s, repo, digest.SHA256, data)
}

func putBlobAlg(t *testing.T, s *Store, repo string, alg digest.Algorithm, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := descOf(alg, data)
	if err := s.PutBlob(t.Context(), repo, desc, bytes.NewReader(data)); err != nil {
		t.Fatalf("PutBlob(%q, %s) = %v", repo, desc.Digest, err)
	}
	return desc
}

// manifestJSON returns an OCI image manifest of config and layers.
func manifestJSON(t *testing.T, m ocispec.Manifest) []byte {
	t.Helper()
	m.Versioned = specsVersioned
	if m.MediaType == "" {
		m.MediaType = ocispec.MediaTypeImageManifest
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// indexJSON returns an OCI index of children.
func indexJSON(t *testing.T, ix ocispec.Index) []byte {
	t.Helper()
	ix.Versioned = specsVersioned
	if ix.MediaType == "" {
		ix.MediaType = ocispec.MediaTypeImageIndex
	}
	b, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushImage pushes the config and one layer of an image made from seed, and
// its manifest under ref (its digest when ref is empty). It returns the
// manifest's descriptor and body.
func pushImage(t *testing.T, s *Store, repo, seed, ref string) (ocispec.Descriptor, []byte) {
	t.Helper()
	cfg := putBlob(t, s, repo, []byte(`{"seed":"`+seed+`"}`))
	cfg.MediaType = ocispec.MediaTypeImageConfig
	layer := putBlob(t, s, repo, []byte("layer of "+seed))
	layer.MediaType = ocispec.MediaTypeImageLayerGzip
	body := manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}})
	if ref == "" {
		ref = digest.FromBytes(body).String()
	}
	desc, err := s.PutManifest(t.Context(), repo, ref, ocispec.MediaTypeImageManifest, body, nil)
	if err != nil {
		t.Fatalf("PutManifest(%q, %q) = %v", repo, ref, err)
	}
	return desc, body
}

func TestNewStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{name: "default has no cap", want: 0},
		{name: "cap", opts: []Option{WithMaxPageSize(3)}, want: 3},
		{name: "negative is no cap", opts: []Option{WithMaxPageSize(-1)}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore(tc.opts...)
			if s.maxPage != tc.want {
				t.Errorf("maxPage = %d, want %d", s.maxPage, tc.want)
			}
			if s.BlobCount() != 0 || s.Uploads() != 0 {
				t.Errorf("new store has %d blobs, %d uploads, want none", s.BlobCount(), s.Uploads())
			}
		})
	}
}

// TestInvalidNames checks that every method validates its names first.
func TestInvalidNames(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	good := digest.FromString("x")
	desc := descOf(digest.SHA256, []byte("x"))
	const bad = "Bad/Name"
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"GetManifest repo", func() error { _, _, err := s.GetManifest(ctx, bad, "latest"); return err }, transport.ErrNameInvalid},
		{"GetManifest tag", func() error { _, _, err := s.GetManifest(ctx, "a", "-bad"); return err }, transport.ErrTagInvalid},
		{"GetManifest digest", func() error { _, _, err := s.GetManifest(ctx, "a", "sha256:xyz"); return err }, transport.ErrDigestInvalid},
		{"HeadManifest repo", func() error { _, err := s.HeadManifest(ctx, bad, "latest"); return err }, transport.ErrNameInvalid},
		{"HeadManifest tag", func() error { _, err := s.HeadManifest(ctx, "a", strings.Repeat("t", 129)); return err }, transport.ErrTagInvalid},
		{"PutManifest repo", func() error { _, err := s.PutManifest(ctx, bad, "latest", "", nil, nil); return err }, transport.ErrNameInvalid},
		{"PutManifest tag", func() error { _, err := s.PutManifest(ctx, "a", "a/b", "", nil, nil); return err }, transport.ErrTagInvalid},
		{"PutManifest digest", func() error { _, err := s.PutManifest(ctx, "a", "md5:00", "", nil, nil); return err }, transport.ErrDigestInvalid},
		{"PutManifest if-match", func() error {
			_, err := s.PutManifest(ctx, "a", "latest", "", nil, &transport.PutManifestOptions{IfMatch: "nope:"})
			return err
		}, transport.ErrDigestInvalid},
		{"DeleteManifest repo", func() error { return s.DeleteManifest(ctx, "", "latest") }, transport.ErrNameInvalid},
		{"DeleteManifest tag", func() error { return s.DeleteManifest(ctx, "a", ".x") }, transport.ErrTagInvalid},
		{"StatBlob repo", func() error { _, err := s.StatBlob(ctx, bad, good); return err }, transport.ErrNameInvalid},
		{"StatBlob digest", func() error { _, err := s.StatBlob(ctx, "a", "sha256:ABC"); return err }, transport.ErrDigestInvalid},
		{"GetBlob repo", func() error { _, _, err := s.GetBlob(ctx, bad, good); return err }, transport.ErrNameInvalid},
		{"GetBlob digest", func() error { _, _, err := s.GetBlob(ctx, "a", ""); return err }, transport.ErrDigestInvalid},
		{"PutBlob repo", func() error { return s.PutBlob(ctx, bad, desc, strings.NewReader("x")) }, transport.ErrNameInvalid},
		{"PutBlob digest", func() error {
			return s.PutBlob(ctx, "a", ocispec.Descriptor{Digest: "sha256:1"}, strings.NewReader("x"))
		}, transport.ErrDigestInvalid},
		{"MountBlob repo", func() error { return s.MountBlob(ctx, bad, "a", good) }, transport.ErrNameInvalid},
		{"MountBlob from", func() error { return s.MountBlob(ctx, "a", bad, good) }, transport.ErrNameInvalid},
		{"MountBlob digest", func() error { return s.MountBlob(ctx, "a", "b", "sha1:00") }, transport.ErrDigestInvalid},
		{"DeleteBlob repo", func() error { return s.DeleteBlob(ctx, bad, good) }, transport.ErrNameInvalid},
		{"DeleteBlob digest", func() error { return s.DeleteBlob(ctx, "a", "x") }, transport.ErrDigestInvalid},
		{"StartUpload repo", func() error { _, err := s.StartUpload(ctx, bad); return err }, transport.ErrNameInvalid},
		{"ResumeUpload repo", func() error { _, err := s.ResumeUpload(ctx, bad, "id"); return err }, transport.ErrNameInvalid},
		{"ListTags repo", func() error { _, err := s.ListTags(ctx, bad, transport.PageRequest{}); return err }, transport.ErrNameInvalid},
		{"ListReferrers repo", func() error {
			_, err := s.ListReferrers(ctx, bad, good, "", transport.PageRequest{})
			return err
		}, transport.ErrNameInvalid},
		{"ListReferrers subject", func() error {
			_, err := s.ListReferrers(ctx, "a", "latest", "", transport.PageRequest{})
			return err
		}, transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call()
			checkErr(t, tc.name, err, tc.want)
			var te *transport.Error
			if !errors.As(err, &te) || te.Error() == te.Code.Text() {
				t.Errorf("%s: error %v is not a *transport.Error that says more than its code", tc.name, err)
			}
		})
	}
	if s.BlobCount() != 0 || len(s.repos) != 0 {
		t.Errorf("invalid calls stored something: %d blobs, %d repositories", s.BlobCount(), len(s.repos))
	}
}

// TestContextDone checks that every method returns ctx.Err() when ctx is
// done, and changes nothing.
func TestContextDone(t *testing.T) {
	t.Parallel()
	s := NewStore()
	desc, _ := pushImage(t, s, "repo", "ctx", "latest")
	data := []byte("data")
	blob := putBlob(t, s, "repo", data)
	w, err := s.StartUpload(t.Context(), "repo")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	blobs := s.BlobCount()
	tests := []struct {
		name string
		call func() error
	}{
		{"GetManifest", func() error { _, _, err := s.GetManifest(ctx, "repo", "latest"); return err }},
		{"HeadManifest", func() error { _, err := s.HeadManifest(ctx, "repo", "latest"); return err }},
		{"PutManifest", func() error { _, err := s.PutManifest(ctx, "repo", "other", "", []byte("{}"), nil); return err }},
		{"DeleteManifest", func() error { return s.DeleteManifest(ctx, "repo", desc.Digest.String()) }},
		{"StatBlob", func() error { _, err := s.StatBlob(ctx, "repo", blob.Digest); return err }},
		{"GetBlob", func() error { _, _, err := s.GetBlob(ctx, "repo", blob.Digest); return err }},
		{"PutBlob", func() error {
			return s.PutBlob(ctx, "new", descOf(digest.SHA256, []byte("new")), strings.NewReader("new"))
		}},
		{"MountBlob", func() error { return s.MountBlob(ctx, "other", "repo", blob.Digest) }},
		{"DeleteBlob", func() error { return s.DeleteBlob(ctx, "repo", blob.Digest) }},
		{"StartUpload", func() error { _, err := s.StartUpload(ctx, "repo"); return err }},
		{"ResumeUpload", func() error { _, err := s.ResumeUpload(ctx, "repo", w.ID()); return err }},
		{"Commit", func() error { return w.Commit(ctx, blob) }},
		{"Cancel", func() error { return w.Cancel(ctx) }},
		{"ListTags", func() error { _, err := s.ListTags(ctx, "repo", transport.PageRequest{}); return err }},
		{"ListRepositories", func() error { _, err := s.ListRepositories(ctx, transport.PageRequest{}); return err }},
		{"ListReferrers", func() error {
			_, err := s.ListReferrers(ctx, "repo", desc.Digest, "", transport.PageRequest{})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.name, tc.call(), context.Canceled)
		})
	}
	if got := s.BlobCount(); got != blobs {
		t.Errorf("BlobCount() = %d after cancelled calls, want %d", got, blobs)
	}
	if got := s.Uploads(); got != 1 {
		t.Errorf("Uploads() = %d after cancelled Commit and Cancel, want 1", got)
	}
	if _, _, err := s.GetManifest(t.Context(), "repo", "latest"); err != nil {
		t.Errorf("GetManifest after cancelled delete = %v", err)
	}
}

// TestConcurrent pushes and reads the same blobs, manifests and tags from
// many goroutines; run it with -race.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	shared := bytes.Repeat([]byte("shared blob "), 200_000) // over two chunks
	sharedDesc := descOf(digest.SHA256, shared)
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers*8)
	for i := range workers {
		wg.Go(func() {
			own := fmt.Sprintf("own/%d", i)
			for _, repo := range []string{"shared", own} {
				if err := s.PutBlob(ctx, repo, sharedDesc, bytes.NewReader(shared)); err != nil {
					errs <- err
					return
				}
			}
			rc, _, err := s.GetBlob(ctx, "shared", sharedDesc.Digest)
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, shared) {
				errs <- fmt.Errorf("GetBlob read %d bytes, %v", len(got), err)
			}
			w, err := s.StartUpload(ctx, own)
			if err != nil {
				errs <- err
				return
			}
			small := []byte(own)
			if _, err := w.Write(small); err != nil {
				errs <- err
			}
			if err := w.Commit(ctx, descOf(digest.SHA256, small)); err != nil {
				errs <- err
			}
			cfg := descOf(digest.SHA256, small)
			cfg.MediaType = ocispec.MediaTypeImageConfig
			if err := s.MountBlob(ctx, "shared", own, cfg.Digest); err != nil {
				errs <- err
			}
			body, _ := json.Marshal(ocispec.Manifest{
				Versioned: specsVersioned,
				MediaType: ocispec.MediaTypeImageManifest,
				Config:    cfg,
				Layers:    []ocispec.Descriptor{sharedDesc},
			})
			if _, err := s.PutManifest(ctx, "shared", "latest", ocispec.MediaTypeImageManifest, body, nil); err != nil {
				errs <- err
			}
			if _, _, err := s.GetManifest(ctx, "shared", "latest"); err != nil {
				errs <- err
			}
			if _, err := s.ListTags(ctx, "shared", transport.PageRequest{}); err != nil {
				errs <- err
			}
			if _, err := s.ListRepositories(ctx, transport.PageRequest{N: 2}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// One shared blob plus one small config per worker.
	if got, want := s.BlobCount(), 1+workers; got != want {
		t.Errorf("BlobCount() = %d, want %d", got, want)
	}
	if got := s.blobs[sharedDesc.Digest].refs; got != workers+1 {
		t.Errorf("shared blob is held by %d repositories, want %d", got, workers+1)
	}
	page, err := s.ListRepositories(ctx, transport.PageRequest{})
	if err != nil || len(page.Items) != workers+1 {
		t.Errorf("ListRepositories() = %d names, %v; want %d", len(page.Items), err, workers+1)
	}
}
