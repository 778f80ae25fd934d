package registrytest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

func testPushPull(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	img := newImage(t, linuxAMD64, 3)
	desc := e.mustPush(t, name, img, "3.0", "latest")
	repo := e.reg.Repository(name)

	for _, tg := range []string{"3.0", "latest"} {
		got, err := repo.Tag(tg).Resolve(e.ctx)
		if err != nil || got.Digest != desc.Digest || got.Size != desc.Size {
			t.Fatalf("Tag(%s).Resolve() = %v, %v, want %s size %d", tg, got.Digest, err, desc.Digest, desc.Size)
		}
	}
	pulled, err := repo.Tag("latest").Image(e.ctx)
	if err != nil {
		t.Fatalf("Tag(latest).Image() = %v", err)
	}
	checkSameImage(t, e, img, pulled)

	byDigest, err := repo.Image(e.ctx, desc.Digest)
	if err != nil {
		t.Fatalf("Image(%s) = %v", desc.Digest, err)
	}
	if !bytes.Equal(byDigest.Raw(), img.Raw()) {
		t.Fatalf("Image(%s) manifest bytes differ from the pushed ones", desc.Digest)
	}
	cfg, err := byDigest.ConfigFile(e.ctx)
	if err != nil || cfg.Architecture != "amd64" {
		t.Fatalf("ConfigFile() = %+v, %v, want architecture amd64", cfg.Platform, err)
	}
	d, raw, err := repo.Tag("3.0").Manifest(e.ctx)
	if err != nil || d.Digest != desc.Digest || !bytes.Equal(raw, img.Raw()) {
		t.Fatalf("Tag(3.0).Manifest() = %s, %v; want %s and the pushed bytes", d.Digest, err, desc.Digest)
	}
}

// checkSameImage reads every blob of got and compares it with want's.
func checkSameImage(t *testing.T, e *env, want, got *image.Image) {
	t.Helper()
	if got.Descriptor().Digest != want.Descriptor().Digest {
		t.Fatalf("pulled digest = %s, want %s", got.Descriptor().Digest, want.Descriptor().Digest)
	}
	wb, gb := want.Blobs(), got.Blobs()
	if len(wb) != len(gb) {
		t.Fatalf("pulled %d blobs, want %d", len(gb), len(wb))
	}
	for i := range wb {
		if a, b := readBlob(t, e, wb[i]), readBlob(t, e, gb[i]); !bytes.Equal(a, b) {
			t.Fatalf("blob %d (%s) differs after the round trip", i, wb[i].Descriptor().Digest)
		}
	}
}

func readBlob(t *testing.T, e *env, b image.Blob) []byte {
	t.Helper()
	rc, err := b.Open(e.ctx)
	if err != nil {
		t.Fatalf("Open(%s) = %v", b.Descriptor().Digest, err)
	}
	defer rc.Close()
	p, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", b.Descriptor().Digest, err)
	}
	return p
}

func testPushSkipsExisting(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	var opened atomic.Int32
	counted := func(b image.Blob) image.Blob {
		return image.NewBlob(b.Descriptor(), func(ctx context.Context) (io.ReadCloser, error) {
			opened.Add(1)
			return b.Open(ctx)
		})
	}
	base := newImage(t, linuxAMD64, 4)
	var layers []image.Blob
	for _, l := range base.Layers() {
		layers = append(layers, counted(l))
	}
	img, err := image.New(counted(base.Config()), layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mustPush(t, name, img, "1.0")
	if n := opened.Swap(0); n != 5 {
		t.Errorf("first push opened %d blobs, want 5 (config and 4 layers)", n)
	}

	e.count.reset()
	e.mustPush(t, name, img, "1.0")
	if n, m := e.count.take("PutBlob"), e.count.take("PutManifest"); n != 0 || m != 0 || opened.Load() != 0 {
		t.Errorf("re-push: %d PutBlob, %d PutManifest, %d blobs opened; want none", n, m, opened.Load())
	}

	// A second image sharing three layers: only its new blobs are read.
	extra, extraID := testimage.Layer(ocispec.MediaTypeImageLayer, []byte("new layer "+randomHex(8)))
	baseCfg, err := base.ConfigFile(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	diffIDs := append(baseCfg.RootFS.DiffIDs[:3:3], extraID)
	cfg := counted(image.BytesBlob(ocispec.MediaTypeImageConfig, testimage.Config(linuxAMD64, diffIDs, nil)))
	img2, err := image.New(cfg, append(layers[:3:3], counted(extra)), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mustPush(t, name, img2, "2.0")
	if n := opened.Load(); n != 2 {
		t.Errorf("push sharing 3 layers opened %d blobs, want 2 (config and the new layer)", n)
	}
}

func testMoveTag(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	repo := e.reg.Repository(name)
	v1 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "1.0", "latest")
	v2 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "2.0")
	e.count.reset()

	if err := repo.Tag("latest").Point(e.ctx, v2); err != nil {
		t.Fatalf("Point(latest, v2) = %v", err)
	}
	if n := e.count.take("PutBlob"); n != 0 {
		t.Errorf("moving a tag uploaded %d blobs, want 0", n)
	}
	for tg, want := range map[string]ocispec.Descriptor{"latest": v2, "2.0": v2, "1.0": v1} {
		got, err := repo.Tag(tg).Resolve(e.ctx)
		if err != nil || got.Digest != want.Digest {
			t.Errorf("after move, Tag(%s).Resolve() = %s, %v, want %s", tg, got.Digest, err, want.Digest)
		}
	}
	// A tag can only point at a manifest the repository has.
	other := newImage(t, linuxAMD64, 1).Descriptor()
	if err := repo.Tag("latest").Point(e.ctx, other); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("Point(latest, unknown) = %v, want ErrManifestUnknown", err)
	}
}

func testPointIf(t *testing.T, s *suite) {
	if s.caps.NoIfMatch {
		t.Skip("the backend does not honour conditional puts")
	}
	e := s.env(t)
	name := e.repo("myapp1")
	repo := e.reg.Repository(name)
	v1 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "latest")
	v2 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "2.0")
	v3 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "3.0")

	if err := repo.Tag("latest").PointIf(e.ctx, v2, v1.Digest); err != nil {
		t.Fatalf("PointIf(latest, v2, if v1) = %v", err)
	}
	// A writer that still believes latest is v1 loses, and changes nothing.
	err := repo.Tag("latest").PointIf(e.ctx, v3, v1.Digest)
	if !errors.Is(err, transport.ErrPreconditionFailed) {
		t.Fatalf("PointIf(latest, v3, if v1) = %v, want ErrPreconditionFailed", err)
	}
	if got, _ := repo.Tag("latest").Resolve(e.ctx); got.Digest != v2.Digest {
		t.Fatalf("latest = %s after a failed PointIf, want %s", got.Digest, v2.Digest)
	}
}

func testDelete(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	repo := e.reg.Repository(name)
	v1 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "1.0", "stable")
	v2 := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "2.0", "latest")

	how, err := repo.Tag("stable").Delete(e.ctx)
	if err != nil || (how != transport.TagDeleted && how != transport.TagDeletedByPlaceholder) {
		t.Fatalf("Tag(stable).Delete() = %v, %v", how, err)
	}
	if _, err := repo.Tag("stable").Resolve(e.ctx); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("deleted tag resolves: %v, want ErrManifestUnknown", err)
	}
	if got, err := repo.Tag("1.0").Resolve(e.ctx); err != nil || got.Digest != v1.Digest {
		t.Errorf("deleting stable removed 1.0 too: %v", err)
	}
	if err := repo.Delete(e.ctx, v2.Digest); err != nil {
		t.Fatalf("Delete(%s) = %v", v2.Digest, err)
	}
	for _, ref := range []string{"2.0", "latest", v2.Digest.String()} {
		if _, err := repo.Resolve(e.ctx, ref); !errors.Is(err, transport.ErrNotFound) {
			t.Errorf("Resolve(%s) after deleting its manifest = %v, want not found", ref, err)
		}
	}
	if _, err := repo.Image(e.ctx, v1.Digest); err != nil {
		t.Errorf("Image(v1) after deleting v2 = %v", err)
	}
}

func testIndex(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("multi")
	repo := e.reg.Repository(name)
	arm64 := ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	var descs []ocispec.Descriptor
	imgs := map[string]*image.Image{}
	for _, p := range []ocispec.Platform{linuxAMD64, arm64} {
		img := newImage(t, p, 2)
		d := e.mustPush(t, name, img)
		d.Platform = &p
		descs = append(descs, d)
		imgs[p.Architecture] = img
	}
	ix, err := image.NewIndex(descs, nil)
	if err != nil {
		t.Fatalf("NewIndex = %v", err)
	}
	if _, err := repo.PushIndex(e.ctx, ix, "1.0"); err != nil {
		t.Fatalf("PushIndex = %v", err)
	}
	got, err := repo.Tag("1.0").PlatformImage(e.ctx, ocispec.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil {
		t.Fatalf("PlatformImage(linux/arm64) = %v", err)
	}
	checkSameImage(t, e, imgs["arm64"], got)

	_, err = repo.Tag("1.0").PlatformImage(e.ctx, ocispec.Platform{OS: "linux", Architecture: "s390x"})
	var pe *image.PlatformError
	if !errors.Is(err, image.ErrNoPlatform) || !errors.As(err, &pe) || len(pe.Have) != 2 {
		t.Errorf("PlatformImage(linux/s390x) = %v, want a PlatformError listing 2 platforms", err)
	}
	if _, err := repo.Tag("1.0").Image(e.ctx); !errors.Is(err, image.ErrUnsupportedMediaType) {
		t.Errorf("Image() of an index = %v, want ErrUnsupportedMediaType", err)
	}
	back, err := repo.Tag("1.0").Index(e.ctx)
	if err != nil || len(back.Manifests()) != 2 || back.Descriptor().Digest != ix.Descriptor().Digest {
		t.Errorf("Index() = %v, want the pushed index", err)
	}

	// An index whose children are missing is refused, and no tag appears.
	orphan, err := image.NewIndex([]ocispec.Descriptor{newImage(t, linuxAMD64, 1).Descriptor()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.PushIndex(e.ctx, orphan, "orphan"); !errors.Is(err, transport.ErrManifestBlobUnknown) {
		t.Errorf("PushIndex(missing child) = %v, want ErrManifestBlobUnknown", err)
	}
	if _, err := repo.Tag("orphan").Resolve(e.ctx); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("tag of a refused index resolves: %v", err)
	}
}

func testReferrers(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	repo := e.reg.Repository(name)
	subject := e.mustPush(t, name, newImage(t, linuxAMD64, 1), "3.0")

	push := func(artifactType string, content string) ocispec.Descriptor {
		sbom := image.BytesBlob(artifactType, []byte(content))
		art, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")), []image.Blob{sbom},
			&image.Options{ArtifactType: artifactType, Subject: &subject})
		if err != nil {
			t.Fatalf("image.New(artifact) = %v", err)
		}
		return e.mustPush(t, name, art)
	}
	sbom := push("application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	sig := push("application/vnd.dev.cosign.artifact.sig.v1+json", "signature")

	all := collect(t, repo.Referrers(e.ctx, subject.Digest, nil))
	if len(all) != 2 {
		t.Fatalf("Referrers() = %d descriptors, want 2", len(all))
	}
	only := collect(t, repo.Referrers(e.ctx, subject.Digest, &repository.ReferrersOptions{ArtifactType: "application/spdx+json"}))
	if len(only) != 1 || only[0].Digest != sbom.Digest || only[0].ArtifactType != "application/spdx+json" {
		t.Fatalf("Referrers(spdx) = %+v, want only %s", only, sbom.Digest)
	}
	if err := repo.Delete(e.ctx, sig.Digest); err != nil {
		t.Fatalf("Delete(signature) = %v", err)
	}
	if left := collect(t, repo.Referrers(e.ctx, subject.Digest, nil)); len(left) != 1 {
		t.Fatalf("after deleting the signature, Referrers() = %d, want 1", len(left))
	}
}
