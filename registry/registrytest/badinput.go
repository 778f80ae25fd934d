package registrytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/regkit/regkit/repository"
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/transport"
)

func testBadInput(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	good := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "1.0")
	repo := e.reg.Repository(name)
	img := newImage(t, linuxAMD64, 1)

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"upper-case repository", func() error { _, err := e.reg.Repository("MyApp").Push(e.ctx, img, "1.0"); return err }, transport.ErrNameInvalid},
		{"repository with ..", func() error { _, err := e.reg.Repository("a/../b").Tag("x").Resolve(e.ctx); return err }, transport.ErrNameInvalid},
		{"empty repository", func() error { _, err := e.reg.Repository("").Tag("x").Resolve(e.ctx); return err }, transport.ErrNameInvalid},
		{"illegal tag", func() error { _, err := repo.Push(e.ctx, img, "ok", "bad tag!"); return err }, transport.ErrTagInvalid},
		{"tag over 128", func() error { _, err := repo.Tag(strings.Repeat("a", 129)).Resolve(e.ctx); return err }, transport.ErrTagInvalid},
		{"unknown tag", func() error { _, err := repo.Tag("nope").Resolve(e.ctx); return err }, transport.ErrManifestUnknown},
		{"unknown digest", func() error { _, err := repo.Image(e.ctx, digest.FromString("nope")); return err }, transport.ErrManifestUnknown},
		{"malformed digest", func() error { _, err := repo.Image(e.ctx, "sha256:abc"); return err }, transport.ErrDigestInvalid},
		{"negative page size of tags", func() error { return firstErr(repo.Tags(e.ctx, &repository.ListOptions{PageSize: -1})) }, transport.ErrSizeInvalid},
		{"negative page size of referrers", func() error {
			return firstErr(repo.Referrers(e.ctx, good.Digest, &repository.ReferrersOptions{ListOptions: repository.ListOptions{PageSize: -1}}))
		}, transport.ErrSizeInvalid},
		// Registries differ here: the spec says NAME_UNKNOWN, the distribution
		// registry answers MANIFEST_UNKNOWN. Both are "not found".
		{"unknown repository", func() error { _, err := e.reg.Repository(e.repo("absent")).Tag("1.0").Resolve(e.ctx); return err }, transport.ErrNotFound},
		{"unknown blob", func() error {
			_, err := e.raw.StatBlob(e.ctx, name, digest.FromString("nope"))
			return err
		}, transport.ErrBlobUnknown},
		{"point at a tag's unknown digest", func() error {
			return repo.Tag("latest").Point(e.ctx, ocispec.Descriptor{Digest: digest.FromString("x")})
		}, transport.ErrManifestUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.count.reset()
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if n := e.count.take("PutBlob"); n != 0 {
				t.Errorf("bad input still uploaded %d blobs", n)
			}
		})
	}

	t.Run("manifest with a missing blob", func(t *testing.T) {
		missing, diffID := testimage.Layer(ocispec.MediaTypeImageLayer, []byte("never pushed"))
		cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, testimage.Config(linuxAMD64, []digest.Digest{diffID}, nil))
		if err := repo.PushBlob(e.ctx, cfg); err != nil {
			t.Fatal(err)
		}
		bad, err := image.New(cfg, []image.Blob{missing}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.raw.PutManifest(e.ctx, name, "broken", bad.Descriptor().MediaType, bad.Raw(), nil)
		if !errors.Is(err, transport.ErrManifestBlobUnknown) {
			t.Fatalf("PutManifest(missing layer) = %v, want ErrManifestBlobUnknown", err)
		}
		if _, err := repo.Tag("broken").Resolve(e.ctx); !errors.Is(err, transport.ErrManifestUnknown) {
			t.Errorf("tag of a refused manifest resolves: %v", err)
		}
		if _, err := repo.Resolve(e.ctx, bad.Descriptor().Digest.String()); !errors.Is(err, transport.ErrManifestUnknown) {
			t.Errorf("refused manifest is visible by digest: %v", err)
		}
	})
	t.Run("manifest under a digest that is not its own", func(t *testing.T) {
		_, raw, err := repo.Manifest(e.ctx, good.Digest)
		if err != nil {
			t.Fatal(err)
		}
		wrong := digest.FromString("other")
		_, err = e.raw.PutManifest(e.ctx, name, wrong.String(), good.MediaType, raw, nil)
		if !errors.Is(err, transport.ErrDigestInvalid) {
			t.Fatalf("PutManifest(wrong digest) = %v, want ErrDigestInvalid", err)
		}
	})
	t.Run("manifest that is not JSON", func(t *testing.T) {
		_, err := e.raw.PutManifest(e.ctx, name, "junk", ocispec.MediaTypeImageManifest, []byte("not json"), nil)
		if !errors.Is(err, transport.ErrManifestInvalid) {
			t.Fatalf("PutManifest(not JSON) = %v, want ErrManifestInvalid", err)
		}
	})
	t.Run("blob bytes that do not match the digest", func(t *testing.T) {
		content := []byte("the real content")
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromString("something else"), Size: int64(len(content))}
		err := e.raw.PutBlob(e.ctx, name, desc, bytes.NewReader(content))
		if !errors.Is(err, transport.ErrDigestInvalid) {
			t.Fatalf("PutBlob(wrong digest) = %v, want ErrDigestInvalid", err)
		}
		for _, d := range []digest.Digest{desc.Digest, digest.FromBytes(content)} {
			if _, err := e.raw.StatBlob(e.ctx, name, d); !errors.Is(err, transport.ErrBlobUnknown) {
				t.Errorf("after a refused upload, StatBlob(%s) = %v, want ErrBlobUnknown", d, err)
			}
		}
	})
	t.Run("blob with the wrong size", func(t *testing.T) {
		content := []byte("twelve bytes")
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(content), Size: 5}
		err := e.raw.PutBlob(e.ctx, name, desc, bytes.NewReader(content))
		if !errors.Is(err, transport.ErrSizeInvalid) && !errors.Is(err, transport.ErrDigestInvalid) {
			t.Fatalf("PutBlob(wrong size) = %v, want ErrSizeInvalid", err)
		}
		if _, err := e.raw.StatBlob(e.ctx, name, desc.Digest); !errors.Is(err, transport.ErrBlobUnknown) {
			t.Errorf("after a refused upload, StatBlob = %v, want ErrBlobUnknown", err)
		}
	})
}

func testCorruptReads(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	img := newImage(t, linuxAMD64, 2)
	desc := e.mustPush(t, name, img, "1.0")
	broken := registry.FromTransport(corrupting{e.raw}).Repository(name)

	if _, err := broken.Tag("1.0").Image(e.ctx); !errors.Is(err, transport.ErrDigestInvalid) {
		t.Errorf("Image() over a corrupting transport = %v, want ErrDigestInvalid", err)
	}
	if _, _, err := broken.Manifest(e.ctx, desc.Digest); !errors.Is(err, transport.ErrDigestInvalid) {
		t.Errorf("Manifest(digest) over a corrupting transport = %v, want ErrDigestInvalid", err)
	}
	layer := img.Layers()[0].Descriptor()
	rc, err := broken.Blob(e.ctx, layer)
	if err != nil {
		t.Fatalf("Blob() = %v", err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, transport.ErrDigestInvalid) {
		t.Errorf("reading a corrupted blob = %v, want ErrDigestInvalid", err)
	}
	// A blob that is longer or shorter than its descriptor says is refused too.
	short := layer
	short.Size--
	rc2, err := e.reg.Repository(name).Blob(e.ctx, short)
	if err != nil {
		t.Fatalf("Blob() = %v", err)
	}
	defer rc2.Close()
	if _, err := io.ReadAll(rc2); !errors.Is(err, transport.ErrSizeInvalid) {
		t.Errorf("reading a blob longer than its descriptor = %v, want ErrSizeInvalid", err)
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstErr returns the first error a listing yields, or nil.
func firstErr[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
