package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/transport"
)

func bytesOpener(p []byte) image.OpenFunc {
	return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(p)), nil }
}

func testSHA512(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("sha512")
	content := testimage.Tar([]byte("a layer addressed by sha512: " + randomHex(32)))
	layer := image.NewBlob(ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageLayer,
		Digest:    digest.SHA512.FromBytes(content),
		Size:      int64(len(content)),
	}, bytesOpener(content))
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, mustJSON(t, ocispec.Image{
		Platform: linuxAMD64,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.Descriptor().Digest}}, // uncompressed: the diff_id is the digest
	}))
	img, err := image.New(cfg, []image.Blob{layer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mustPush(t, name, img, "1.0")
	pulled, err := e.reg.Repository(name).Tag("1.0").Image(e.ctx)
	if err != nil {
		t.Fatalf("Image() = %v", err)
	}
	checkSameImage(t, e, img, pulled)

	if s.caps.NoSHA512Manifests {
		return
	}
	// A manifest can be addressed by its sha512 digest too.
	d512 := digest.SHA512.FromBytes(img.Raw())
	if _, err := e.raw.PutManifest(e.ctx, name, d512.String(), img.Descriptor().MediaType, img.Raw(), nil); err != nil {
		t.Fatalf("PutManifest(%s) = %v", d512, err)
	}
	_, raw, err := e.reg.Repository(name).Manifest(e.ctx, d512)
	if err != nil || !bytes.Equal(raw, img.Raw()) {
		t.Fatalf("Manifest(%s) = %v, want the pushed bytes", d512, err)
	}

	if s.caps.NoManifestTagParams {
		return
	}
	// Tags put with it name it by its sha512 digest, algorithm included.
	tags := []string{"sha512", "sha512-too"}
	if _, err := e.raw.PutManifest(e.ctx, name, d512.String(), img.Descriptor().MediaType, img.Raw(), &transport.PutManifestOptions{Tags: tags}); err != nil {
		t.Fatalf("PutManifest(%s, tags %q) = %v", d512, tags, err)
	}
	for _, tag := range tags {
		if got, err := e.reg.Repository(name).Resolve(e.ctx, tag); err != nil || got.Digest != d512 {
			t.Errorf("Resolve(%s) = %s, %v, want %s", tag, got.Digest, err, d512)
		}
		got, raw, err := e.raw.GetManifest(e.ctx, name, tag)
		if err != nil || got.Digest != d512 || !bytes.Equal(raw, img.Raw()) {
			t.Errorf("GetManifest(%s) = %s, %v, want %s and the pushed bytes", tag, got.Digest, err, d512)
		}
	}
	if got, err := e.reg.Repository(name).Resolve(e.ctx, "1.0"); err != nil || got.Digest != img.Descriptor().Digest {
		t.Errorf("Resolve(1.0) = %s, %v, want the sha256 digest it was pushed by, %s", got.Digest, err, img.Descriptor().Digest)
	}
	// Tag.Point keeps the digest too.
	desc512 := img.Descriptor()
	desc512.Digest = d512
	if err := e.reg.Repository(name).Tag("pointed").Point(e.ctx, desc512); err != nil {
		t.Fatalf("Point(pointed, %s) = %v", d512, err)
	}
	if got, err := e.reg.Repository(name).Resolve(e.ctx, "pointed"); err != nil || got.Digest != d512 {
		t.Errorf("Resolve(pointed) = %s, %v, want %s", got.Digest, err, d512)
	}
	bad := &transport.PutManifestOptions{Tags: []string{"ok", "not a tag"}}
	if _, err := e.raw.PutManifest(e.ctx, name, d512.String(), img.Descriptor().MediaType, img.Raw(), bad); !errors.Is(err, transport.ErrTagInvalid) {
		t.Errorf("PutManifest(tags %q) = %v, want ErrTagInvalid", bad.Tags, err)
	}
	if _, err := e.raw.HeadManifest(e.ctx, name, "ok"); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("HeadManifest(ok) after a refused put = %v, want ErrManifestUnknown: nothing changes", err)
	}
	// More tags than one put takes are refused, before any of them is set:
	// a request may not make a backend rewrite its tags without bound.
	many := &transport.PutManifestOptions{}
	for i := range transport.MaxPutTags + 1 {
		many.Tags = append(many.Tags, fmt.Sprintf("many-%d", i))
	}
	if _, err := e.raw.PutManifest(e.ctx, name, d512.String(), img.Descriptor().MediaType, img.Raw(), many); !errors.Is(err, transport.ErrTagInvalid) {
		t.Errorf("PutManifest(%d tags) = %v, want ErrTagInvalid", len(many.Tags), err)
	}
	if _, err := e.raw.HeadManifest(e.ctx, name, "many-0"); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("HeadManifest(many-0) after a refused put = %v, want ErrManifestUnknown: nothing changes", err)
	}
}

func testUploads(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("uploads")
	// Something must exist for some registries to accept sessions; push one image.
	e.mustPush(t, name, newImage(t, linuxAMD64, 1), "1.0")
	content := bytes.Repeat([]byte("chunk of an upload "), 5000)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(content), Size: int64(len(content))}

	w, err := e.raw.StartUpload(e.ctx, name)
	if err != nil {
		t.Fatalf("StartUpload = %v", err)
	}
	half := len(content) / 2
	if _, err := w.Write(content[:half]); err != nil {
		t.Fatalf("Write = %v", err)
	}
	w2, err := e.raw.ResumeUpload(e.ctx, name, w.ID())
	if err != nil {
		t.Fatalf("ResumeUpload(%s) = %v", w.ID(), err)
	}
	if w2.Size() != int64(half) {
		t.Fatalf("resumed session has %d bytes, want %d", w2.Size(), half)
	}
	if _, err := w2.Write(content[half:]); err != nil {
		t.Fatalf("Write = %v", err)
	}
	if _, err := e.raw.StatBlob(e.ctx, name, desc.Digest); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Fatalf("blob visible before Commit: %v", err)
	}
	if err := w2.Commit(e.ctx, desc); err != nil {
		t.Fatalf("Commit = %v", err)
	}
	if got, err := e.raw.StatBlob(e.ctx, name, desc.Digest); err != nil || got.Size != desc.Size {
		t.Fatalf("StatBlob after Commit = %+v, %v", got, err)
	}

	t.Run("wrong digest", func(t *testing.T) {
		w, err := e.raw.StartUpload(e.ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		other := []byte("other bytes " + randomHex(8))
		if _, err := w.Write(other); err != nil {
			t.Fatal(err)
		}
		claimed := ocispec.Descriptor{Digest: digest.FromString("claimed " + randomHex(8)), Size: int64(len(other))}
		if err := w.Commit(e.ctx, claimed); !errors.Is(err, transport.ErrDigestInvalid) {
			t.Fatalf("Commit(wrong digest) = %v, want ErrDigestInvalid", err)
		}
		for _, d := range []digest.Digest{claimed.Digest, digest.FromBytes(other)} {
			if _, err := e.raw.StatBlob(e.ctx, name, d); !errors.Is(err, transport.ErrBlobUnknown) {
				t.Errorf("StatBlob(%s) after a refused commit = %v, want ErrBlobUnknown", d, err)
			}
		}
	})
	t.Run("cancel", func(t *testing.T) {
		w, err := e.raw.StartUpload(e.ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Cancel(e.ctx); err != nil {
			t.Fatalf("Cancel = %v", err)
		}
		if _, err := e.raw.ResumeUpload(e.ctx, name, w.ID()); !errors.Is(err, transport.ErrBlobUploadUnknown) {
			t.Fatalf("ResumeUpload(cancelled) = %v, want ErrBlobUploadUnknown", err)
		}
	})
	t.Run("unknown session", func(t *testing.T) {
		if _, err := e.raw.ResumeUpload(e.ctx, name, "no-such-session"); !errors.Is(err, transport.ErrBlobUploadUnknown) {
			t.Fatalf("ResumeUpload(unknown) = %v, want ErrBlobUploadUnknown", err)
		}
	})
}

func testMount(t *testing.T, s *suite) {
	e := s.env(t)
	src, dst := e.repo("src"), e.repo("dst")
	img := newImage(t, linuxAMD64, 1)
	e.mustPush(t, src, img, "1.0")
	layer := img.Layers()[0].Descriptor()

	if err := e.raw.MountBlob(e.ctx, dst, src, layer.Digest); err != nil {
		if errors.Is(err, transport.ErrUnsupported) {
			t.Skip("the backend cannot mount")
		}
		t.Fatalf("MountBlob = %v", err)
	}
	if got, err := e.raw.StatBlob(e.ctx, dst, layer.Digest); err != nil || got.Size != layer.Size {
		t.Fatalf("StatBlob(dst) after mount = %+v, %v", got, err)
	}
	missing := digest.FromString("absent " + randomHex(8))
	if err := e.raw.MountBlob(e.ctx, dst, src, missing); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Fatalf("MountBlob(missing) = %v, want ErrBlobUnknown", err)
	}
}

func testConcurrent(t *testing.T, s *suite) {
	e := s.env(t)
	const workers = 8
	imgs := make([]*image.Image, workers)
	for i := range imgs {
		imgs[i] = newImage(t, linuxAMD64, 2)
	}
	name := e.repo("shared")
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := e.reg.Repository(name)
			desc, err := repo.Push(e.ctx, imgs[i], fmt.Sprintf("v%d", i))
			if err != nil {
				errs <- err
				return
			}
			if err := repo.Tag("latest").Point(e.ctx, desc); err != nil {
				errs <- err
				return
			}
			if _, err := repo.Tag(fmt.Sprintf("v%d", i)).Image(e.ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// latest points at one of the images, complete.
	img, err := e.reg.Repository(name).Tag("latest").Image(e.ctx)
	if err != nil {
		t.Fatalf("latest after concurrent moves: %v", err)
	}
	found := false
	for _, want := range imgs {
		if want.Descriptor().Digest == img.Descriptor().Digest {
			checkSameImage(t, e, want, img)
			found = true
		}
	}
	if !found {
		t.Fatalf("latest = %s, not one of the pushed images", img.Descriptor().Digest)
	}
}
