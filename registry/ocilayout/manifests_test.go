package ocilayout_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// TestPutManifestRefused checks that every refused put leaves the layout
// as it was.
func TestPutManifestRefused(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	base := newImage(t, 1, nil)
	baseDesc := push(t, s, "app", base, "1.0")

	missingLayer := newImage(t, 2, nil)
	for _, b := range missingLayer.Blobs()[:2] { // all but its second layer
		rc, err := b.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutBlob(ctx, "app", b.Descriptor(), rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	noConfig := newImage(t, 1, nil)
	layerAsChild, err := image.NewIndex([]ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: base.Layers()[0].Descriptor().Digest, Size: base.Layers()[0].Descriptor().Size}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := image.NewIndex([]ocispec.Descriptor{newImage(t, 1, nil).Descriptor()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		ref       string
		mediaType string
		body      []byte
		opts      *transport.PutManifestOptions
		wantErr   error
	}{
		{name: "not JSON", ref: "x", mediaType: ocispec.MediaTypeImageManifest, body: []byte("not json"), wantErr: transport.ErrManifestInvalid},
		{name: "not JSON, no media type", ref: "x", body: []byte("[1]"), wantErr: transport.ErrManifestInvalid},
		{name: "media type mismatch", ref: "x", mediaType: ocispec.MediaTypeImageIndex, body: base.Raw(), wantErr: transport.ErrManifestInvalid},
		{name: "unsupported media type", ref: "x", mediaType: "application/json", body: []byte(`{"schemaVersion":2}`), wantErr: transport.ErrManifestInvalid},
		{name: "schema 1", ref: "x", body: []byte(`{"schemaVersion":1,"fsLayers":[]}`), wantErr: transport.ErrManifestInvalid},
		{name: "bad index", ref: "x", mediaType: ocispec.MediaTypeImageIndex, body: []byte(`{"schemaVersion":2,"manifests":[{"digest":"sha256:1"}]}`), wantErr: transport.ErrManifestInvalid},
		{name: "missing layer", ref: "x", body: missingLayer.Raw(), wantErr: transport.ErrManifestBlobUnknown},
		{name: "missing config", ref: "x", body: noConfig.Raw(), wantErr: transport.ErrManifestBlobUnknown},
		{name: "missing child", ref: "x", body: orphan.Raw(), wantErr: transport.ErrManifestBlobUnknown},
		{name: "child that is a layer", ref: "x", body: layerAsChild.Raw(), wantErr: transport.ErrManifestBlobUnknown},
		{name: "in a new repository", ref: "x", body: base.Raw(), wantErr: transport.ErrManifestBlobUnknown},
		{name: "wrong digest", ref: digest.FromString("x").String(), body: base.Raw(), wantErr: transport.ErrDigestInvalid},
		{name: "bad tag", ref: "-x", body: base.Raw(), wantErr: transport.ErrTagInvalid},
		{name: "if-match another digest", ref: "1.0", body: base.Raw(), opts: &transport.PutManifestOptions{IfMatch: digest.FromString("x")}, wantErr: transport.ErrPreconditionFailed},
		{name: "if-match an absent tag", ref: "2.0", body: base.Raw(), opts: &transport.PutManifestOptions{IfMatch: baseDesc.Digest}, wantErr: transport.ErrPreconditionFailed},
		{name: "if-match a bad digest", ref: "1.0", body: base.Raw(), opts: &transport.PutManifestOptions{IfMatch: "sha256:1"}, wantErr: transport.ErrDigestInvalid},
	}
	before := files(t, s.Dir())
	index := entries(t, s.Dir(), "app")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := "app"
			if tc.name == "in a new repository" {
				repo = "new"
			}
			_, err := s.PutManifest(ctx, repo, tc.ref, tc.mediaType, tc.body, tc.opts)
			checkErr(t, "PutManifest", err, tc.wantErr)
			if got := files(t, s.Dir()); !slices.Equal(got, before) {
				t.Errorf("files after a refused put = %v, want %v", got, before)
			}
			if got := entries(t, s.Dir(), "app"); !slices.Equal(got, index) {
				t.Errorf("index.json after a refused put = %v, want %v", got, index)
			}
		})
	}
}

func mustImage(t testing.TB, cfg image.Blob, layers []image.Blob) *image.Image {
	t.Helper()
	img, err := image.New(cfg, layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestIndexJSON checks what index.json lists as tags move and manifests
// come and go.
func TestIndexJSON(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	dir := s.Dir()
	a, b := newImage(t, 1, nil), newImage(t, 1, nil)
	da := push(t, s, "app", a).Digest // by digest: untagged
	db := push(t, s, "app", b, "1.0", "latest").Digest
	check := func(step string, want ...string) {
		t.Helper()
		if got := entries(t, dir, "app"); !slices.Equal(got, want) {
			t.Fatalf("%s: index.json = %v, want %v", step, got, want)
		}
	}
	check("pushed", string(da)+" -", string(db)+" 1.0", string(db)+" latest")

	if _, err := s.PutManifest(ctx, "app", string(db), "", b.Raw(), nil); err != nil {
		t.Fatal(err)
	}
	check("re-put by digest", string(da)+" -", string(db)+" 1.0", string(db)+" latest")
	// Putting a tag where it points already does not rewrite index.json.
	before, _ := os.Stat(filepath.Join(dir, "app", "index.json"))
	if _, err := s.PutManifest(ctx, "app", "1.0", "", b.Raw(), nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(dir, "app", "index.json")); !os.SameFile(before, after) {
		t.Error("re-putting a tag rewrote index.json")
	}
	check("re-put by tag", string(da)+" -", string(db)+" 1.0", string(db)+" latest")

	// Tagging the untagged manifest replaces its untagged entry.
	if _, err := s.PutManifest(ctx, "app", "latest", "", a.Raw(), &transport.PutManifestOptions{IfMatch: db}); err != nil {
		t.Fatalf("move latest = %v", err)
	}
	check("moved latest", string(db)+" 1.0", string(da)+" latest")

	// Deleting the last tag of a manifest keeps it, untagged.
	how, err := s.DeleteTag(ctx, "app", "1.0")
	if err != nil || how != transport.TagDeleted {
		t.Fatalf("DeleteTag(1.0) = %v, %v", how, err)
	}
	check("deleted 1.0", string(da)+" latest", string(db)+" -")
	if _, err := s.HeadManifest(ctx, "app", string(db)); err != nil {
		t.Errorf("manifest after deleting its tag = %v", err)
	}
	// Deleting a tag that shares its manifest adds nothing.
	if _, err := s.PutManifest(ctx, "app", "stable", "", a.Raw(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteManifest(ctx, "app", "stable"); err != nil {
		t.Fatalf("DeleteManifest(stable) = %v", err)
	}
	check("deleted stable", string(da)+" latest", string(db)+" -")

	// Deleting by digest removes the entries and the file.
	if err := s.DeleteManifest(ctx, "app", string(da)); err != nil {
		t.Fatalf("DeleteManifest(%s) = %v", da, err)
	}
	check("deleted a", string(db)+" -")
	if _, err := os.Stat(filepath.Join(dir, "app", "blobs", "sha256", da.Encoded())); !os.IsNotExist(err) {
		t.Errorf("manifest file after delete: %v", err)
	}
	for _, ref := range []string{"latest", string(da), "nope"} {
		if err := s.DeleteManifest(ctx, "app", ref); !errors.Is(err, transport.ErrManifestUnknown) {
			t.Errorf("DeleteManifest(%s) = %v, want ErrManifestUnknown", ref, err)
		}
	}
	if _, err := s.DeleteTag(ctx, "app", "latest"); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("DeleteTag(deleted) = %v, want ErrManifestUnknown", err)
	}
	if _, err := s.DeleteTag(ctx, "app", "sha256:x"); !errors.Is(err, transport.ErrTagInvalid) {
		t.Errorf("DeleteTag(digest) = %v, want ErrTagInvalid", err)
	}
	if _, err := s.DeleteTag(ctx, "absent", "x"); !errors.Is(err, transport.ErrNameUnknown) {
		t.Errorf("DeleteTag(unknown repository) = %v, want ErrNameUnknown", err)
	}
	if err := s.DeleteManifest(ctx, "absent", string(da)); !errors.Is(err, transport.ErrNameUnknown) {
		t.Errorf("DeleteManifest(unknown repository) = %v, want ErrNameUnknown", err)
	}
}

// TestForeignLayout reads a layout written as skopeo writes one: children
// of an index in blobs only, entries without media types, a ref.name that
// is a full reference, and manifests found by their content.
func TestForeignLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amd, arm := newImage(t, 1, nil), newImage(t, 2, nil)
	ix, err := image.NewIndex([]ocispec.Descriptor{amd.Descriptor(), arm.Descriptor()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bare := ix.Descriptor()
	bare.MediaType = "" // detected from the bytes
	docker := []byte(`{"schemaVersion":2,"mediaType":"` + image.MediaTypeDockerManifest + `","config":` + string(mustJSON(t, amd.Config().Descriptor())) + `,"layers":[]}`)
	dockerDesc := ocispec.Descriptor{MediaType: image.MediaTypeDockerManifest, Digest: digest.FromBytes(docker), Size: int64(len(docker))}
	writeLayout(t, dir, "app", []*image.Image{amd, arm}, [][]byte{ix.Raw(), docker},
		tagged(bare, "1.0"), tagged(amd.Descriptor(), "docker.io/library/app:amd"), tagged(dockerDesc, "docker"))
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()

	desc, raw, err := s.GetManifest(ctx, "app", "1.0")
	if err != nil || desc.MediaType != ocispec.MediaTypeImageIndex || desc.Digest != ix.Descriptor().Digest || !bytes.Equal(raw, ix.Raw()) {
		t.Fatalf("GetManifest(1.0) = %+v, %v; want the index", desc, err)
	}
	if head, err := s.HeadManifest(ctx, "app", "1.0"); err != nil || head.MediaType != ocispec.MediaTypeImageIndex {
		t.Errorf("HeadManifest(1.0) = %+v, %v", head, err)
	}
	if head, err := s.HeadManifest(ctx, "app", "docker"); err != nil || head.MediaType != image.MediaTypeDockerManifest {
		t.Errorf("HeadManifest(docker) = %+v, %v", head, err)
	}
	for _, img := range []*image.Image{amd, arm} {
		d := img.Descriptor()
		got, raw, err := s.GetManifest(ctx, "app", d.Digest.String())
		if err != nil || got.MediaType != ocispec.MediaTypeImageManifest || got.Size != d.Size || !bytes.Equal(raw, img.Raw()) {
			t.Errorf("GetManifest(child %s) = %+v, %v", d.Digest, got, err)
		}
	}
	for _, b := range []image.Blob{amd.Config(), amd.Layers()[0]} {
		if _, err := s.HeadManifest(ctx, "app", b.Descriptor().Digest.String()); !errors.Is(err, transport.ErrManifestUnknown) {
			t.Errorf("HeadManifest(blob %s) = %v, want ErrManifestUnknown", b.Descriptor().MediaType, err)
		}
	}
	page, err := s.ListTags(ctx, "app", transport.PageRequest{})
	if err != nil || !slices.Equal(page.Items, []string{"1.0", "amd", "docker"}) {
		t.Errorf("ListTags = %v, %v; want [1.0 amd docker]", page.Items, err)
	}
	if head, err := s.HeadManifest(ctx, "app", "amd"); err != nil || head.Digest != amd.Descriptor().Digest {
		t.Errorf("HeadManifest(amd, a full reference's tag) = %+v, %v", head, err)
	}
	// An index whose children are in blobs only can be put again, and
	// tagged.
	if _, err := s.PutManifest(ctx, "app", "2.0", "", ix.Raw(), nil); err != nil {
		t.Errorf("PutManifest(index of unlisted children) = %v", err)
	}
	// A child deleted by digest is gone.
	if err := s.DeleteManifest(ctx, "app", arm.Descriptor().Digest.String()); err != nil {
		t.Errorf("DeleteManifest(unlisted child) = %v", err)
	}
	if _, err := s.HeadManifest(ctx, "app", arm.Descriptor().Digest.String()); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("HeadManifest(deleted child) = %v, want ErrManifestUnknown", err)
	}
	if err := s.DeleteManifest(ctx, "app", amd.Config().Descriptor().Digest.String()); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("DeleteManifest(config blob) = %v, want ErrManifestUnknown", err)
	}
}

// TestForeignLayers checks that layers a registry does not distribute need
// not be in the repository.
func TestForeignLayers(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"windows"}`))
	push(t, s, "win", mustImage(t, cfg, nil))
	base := ocispec.Descriptor{MediaType: image.MediaTypeDockerForeignLayer, Digest: digest.FromString("base layer"), Size: 10, URLs: []string{"https://example.com/base"}}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg.Descriptor(), Layers: []ocispec.Descriptor{base}}
	m.SchemaVersion = 2
	if _, err := s.PutManifest(t.Context(), "win", "1.0", "", mustJSON(t, m), nil); err != nil {
		t.Errorf("PutManifest(foreign layer) = %v", err)
	}
}
