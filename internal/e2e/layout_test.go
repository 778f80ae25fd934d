package e2e

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport/server"
)

// openLayoutRegistry opens the on-disk registry in dir, closed when the test
// ends.
func openLayoutRegistry(t *testing.T, dir string) *ocilayout.Registry {
	t.Helper()
	reg, err := ocilayout.New(dir)
	if err != nil {
		t.Fatalf("ocilayout.New(%s) = %v", dir, err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

// skopeoInspect runs `skopeo inspect` on ref and returns the digest and
// layers it reports.
func skopeoInspect(t *testing.T, ref string) (string, []string) {
	t.Helper()
	var inspect struct {
		Digest string
		Layers []string
	}
	out := regtest.Run(t, "skopeo", "inspect", ref)
	if err := json.Unmarshal([]byte(out), &inspect); err != nil {
		t.Fatalf("skopeo inspect %s output: %v\n%s", ref, err, out)
	}
	return inspect.Digest, inspect.Layers
}

// TestLayoutSkopeoReadsStore has skopeo read and copy an image that the
// on-disk Store wrote, next to an untagged artifact that refers to it.
func TestLayoutSkopeoReadsStore(t *testing.T) {
	regtest.Tool(t, "skopeo")
	ctx := t.Context()
	dir := t.TempDir()
	reg := openLayoutRegistry(t, dir)
	repo := reg.Repository("myapp1")
	img := appImage(t, "myapp1", "3.0", 3)
	want := img.Descriptor()
	if _, err := repo.Push(ctx, img, "3.0", "latest"); err != nil {
		t.Fatalf("Push = %v", err)
	}
	sbom, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		[]image.Blob{image.BytesBlob("application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`))},
		&image.Options{ArtifactType: "application/spdx+json", Subject: &want})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Push(ctx, sbom); err != nil {
		t.Fatalf("Push(sbom) = %v", err)
	}

	for _, tag := range []string{"3.0", "latest"} {
		d, layers := skopeoInspect(t, "oci:"+filepath.Join(dir, "myapp1")+":"+tag)
		if d != want.Digest.String() || len(layers) != 3 {
			t.Errorf("skopeo inspect myapp1:%s = %s with %d layers, want %s with 3", tag, d, len(layers), want.Digest)
		}
	}
	other := filepath.Join(t.TempDir(), "copy")
	regtest.Run(t, "skopeo", "copy", "oci:"+filepath.Join(dir, "myapp1")+":3.0", "oci:"+other+":3.0")
	desc, m := readLayout(t, other, "3.0")
	if desc.Digest != want.Digest || len(m.Layers) != 3 {
		t.Errorf("skopeo copy of myapp1:3.0 = %s with %d layers, want %s with 3", desc.Digest, len(m.Layers), want.Digest)
	}
	for i, l := range img.Layers() {
		if m.Layers[i].Digest != l.Descriptor().Digest {
			t.Errorf("copied layer %d = %s, want %s", i, m.Layers[i].Digest, l.Descriptor().Digest)
		}
	}
}

// TestLayoutStoreReadsSkopeo has the on-disk Store read layouts that skopeo
// wrote, from another layout and from the fake registry over HTTP (a
// multi-platform image, whose children skopeo does not list in index.json),
// then write to them for skopeo to read again.
func TestLayoutStoreReadsSkopeo(t *testing.T) {
	regtest.Tool(t, "skopeo")
	ctx := t.Context()
	dir := t.TempDir()

	img := appImage(t, "app", "1.0", 2)
	src := t.TempDir()
	writeLayout(t, src, img, "1.0")
	regtest.Run(t, "skopeo", "copy", "oci:"+src+":1.0", "oci:"+filepath.Join(dir, "app")+":1.0")

	srv := fake.Serve(t)
	remote, err := registry.New(srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	amd := appImage(t, "multi", "2.0", 1)
	arm := layoutArmImage(t)
	ix, err := remote.Repository("multi").PushPlatforms(ctx, []*image.Image{amd, arm}, "2.0")
	if err != nil {
		t.Fatalf("PushPlatforms = %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "team"), 0o755); err != nil { // skopeo makes only the last directory
		t.Fatal(err)
	}
	regtest.Run(t, "skopeo", "copy", "--all", "--src-tls-verify=false",
		"docker://"+srv.Host+"/multi:2.0", "oci:"+filepath.Join(dir, "team", "multi")+":2.0")

	var written ocispec.Index
	readJSON(t, filepath.Join(dir, "team", "multi", "index.json"), &written)
	if len(written.Manifests) != 1 {
		t.Fatalf("skopeo listed %d manifests in index.json, want only the index", len(written.Manifests))
	}

	reg := openLayoutRegistry(t, dir)
	got, err := reg.Repository("app").Tag("1.0").Image(ctx)
	if err != nil || got.Descriptor().Digest != img.Descriptor().Digest {
		t.Fatalf("Store: app:1.0 = %v, want %s", err, img.Descriptor().Digest)
	}
	for i, b := range got.Blobs() {
		p, err := readAllCloseBlob(t, b) // verified against its digest
		if err != nil || int64(len(p)) != img.Blobs()[i].Descriptor().Size {
			t.Errorf("Store: blob %d of app:1.0 = %d bytes, %v", i, len(p), err)
		}
	}

	multi := reg.Repository("team/multi")
	back, err := multi.Tag("2.0").Index(ctx)
	if err != nil || back.Descriptor().Digest != ix.Descriptor().Digest {
		t.Fatalf("Store: team/multi:2.0 index = %v, want %s", err, ix.Descriptor().Digest)
	}
	armBack, err := multi.Tag("2.0").PlatformImage(ctx, ocispec.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil || armBack.Descriptor().Digest != arm.Descriptor().Digest {
		t.Fatalf("Store: team/multi:2.0 linux/arm64 = %v, want %s", err, arm.Descriptor().Digest)
	}
	if _, err := readAllCloseBlob(t, armBack.Layers()[0]); err != nil {
		t.Errorf("Store: arm64 layer: %v", err)
	}

	var repos []string
	for name, err := range reg.Repositories(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		repos = append(repos, name)
	}
	if !slices.Equal(repos, []string{"app", "team/multi"}) {
		t.Errorf("Store: repositories = %v, want [app team/multi]", repos)
	}

	// The Store writes into skopeo's layouts, and skopeo reads them back.
	if err := multi.Tag("latest").Point(ctx, back.Descriptor()); err != nil {
		t.Fatalf("Point(latest) = %v", err)
	}
	img2 := appImage(t, "app", "2.0", 1)
	if _, err := reg.Repository("app").Push(ctx, img2, "2.0"); err != nil {
		t.Fatalf("Push(app:2.0) = %v", err)
	}
	if d, _ := skopeoInspect(t, "oci:"+filepath.Join(dir, "app")+":2.0"); d != img2.Descriptor().Digest.String() {
		t.Errorf("skopeo inspect app:2.0 = %s, want %s", d, img2.Descriptor().Digest)
	}
	if d, _ := skopeoInspect(t, "oci:"+filepath.Join(dir, "app")+":1.0"); d != img.Descriptor().Digest.String() {
		t.Errorf("skopeo inspect app:1.0 = %s, want %s", d, img.Descriptor().Digest)
	}
	out := filepath.Join(t.TempDir(), "arm")
	regtest.Run(t, "skopeo", "copy", "--override-arch", "arm64",
		"oci:"+filepath.Join(dir, "team", "multi")+":latest", "oci:"+out+":latest")
	if desc, _ := readLayout(t, out, "latest"); desc.Digest != arm.Descriptor().Digest {
		t.Errorf("skopeo copy of team/multi:latest for arm64 = %s, want %s", desc.Digest, arm.Descriptor().Digest)
	}
}

// TestLayoutServedOverHTTP serves the on-disk Store as a registry: skopeo
// pushes into it over HTTP (upload sessions, chunks, mounts) and reads the
// result back, over HTTP and as a layout.
func TestLayoutServedOverHTTP(t *testing.T) {
	regtest.Tool(t, "skopeo")
	dir := t.TempDir()
	reg := openLayoutRegistry(t, dir)
	srv := httptest.NewServer(server.NewHandler(reg.Store))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	img := appImage(t, "served", "1.0", 3)
	want := img.Descriptor().Digest.String()
	src := t.TempDir()
	writeLayout(t, src, img, "1.0")
	regtest.Run(t, "skopeo", "copy", "--dest-tls-verify=false", "oci:"+src+":1.0", "docker://"+host+"/served:1.0")
	regtest.Run(t, "skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+host+"/served:1.0", "docker://"+host+"/mirror/served:1.0")

	for _, ref := range []string{"docker://" + host + "/mirror/served:1.0", "oci:" + filepath.Join(dir, "served") + ":1.0"} {
		args := []string{ref}
		if strings.HasPrefix(ref, "docker://") {
			args = []string{"--tls-verify=false", ref}
		}
		var inspect struct{ Digest string }
		out := regtest.Run(t, "skopeo", append([]string{"inspect"}, args...)...)
		if err := json.Unmarshal([]byte(out), &inspect); err != nil {
			t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, out)
		}
		if inspect.Digest != want {
			t.Errorf("skopeo inspect %s = %s, want %s", ref, inspect.Digest, want)
		}
	}
	got, err := reg.Repository("mirror/served").Tag("1.0").Image(t.Context())
	if err != nil || got.Descriptor().Digest.String() != want {
		t.Fatalf("Store: mirror/served:1.0 = %v, want %s", err, want)
	}
	for _, b := range got.Blobs() {
		if _, err := readAllCloseBlob(t, b); err != nil {
			t.Errorf("Store: blob %s: %v", b.Descriptor().Digest, err)
		}
	}
}

// layoutArmImage builds a linux/arm64 image of one gzipped tar layer.
func layoutArmImage(t *testing.T) *image.Image {
	t.Helper()
	base := appImage(t, "multi", "2.0-arm64", 1)
	cfg, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: mustDiffIDs(t, base)},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, cfg), base.Layers(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// mustDiffIDs returns the diff IDs of img's config.
func mustDiffIDs(t *testing.T, img *image.Image) []digest.Digest {
	t.Helper()
	cfg, err := img.ConfigFile(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cfg.RootFS.DiffIDs
}
