package e2e

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/regkit/regkit/image/validate"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
)

// TestOpenRepositorySkopeo opens, as one repository, the layout that
// `skopeo copy … oci:DIR:1.0` writes from the fake registry over HTTP:
// regkit pulls and validates the image, pushes a tag 2.0 into the layout,
// and skopeo reads both tags back and copies 2.0 to the registry.
func TestOpenRepositorySkopeo(t *testing.T) {
	regtest.Tool(t, "skopeo")
	ctx := t.Context()
	srv := fake.Serve(t)
	remote, err := registry.New(srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	v1 := appImage(t, "app", "1.0", 3)
	if _, err := remote.Repository("app").Push(ctx, v1, "1.0"); err != nil {
		t.Fatalf("Push to the fake = %v", err)
	}
	dir := filepath.Join(t.TempDir(), "oci") // skopeo makes only the last directory
	regtest.Run(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+srv.Host+"/app:1.0", "oci:"+dir+":1.0")

	repo, err := ocilayout.OpenRepository(dir)
	if err != nil {
		t.Fatalf("OpenRepository(skopeo's layout) = %v", err)
	}
	defer repo.Close()
	if repo.Name() != "oci" {
		t.Errorf("Name = %q, want oci (the directory's base name)", repo.Name())
	}
	got, err := repo.Tag("1.0").Image(ctx)
	if err != nil || got.Descriptor().Digest != v1.Descriptor().Digest {
		t.Fatalf("Tag(1.0).Image = %v, want %s", err, v1.Descriptor().Digest)
	}
	if err := validate.Image(ctx, got); err != nil {
		t.Fatalf("validate.Image(1.0) = %v", err)
	}

	v2 := appImage(t, "app", "2.0", 2)
	if _, err := repo.Push(ctx, v2, "2.0"); err != nil {
		t.Fatalf("Push(2.0) into skopeo's layout = %v", err)
	}
	var tags []string
	for tag, err := range repo.Tags(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, tag)
	}
	if !slices.Equal(tags, []string{"1.0", "2.0"}) {
		t.Errorf("Tags = %v, want [1.0 2.0]", tags)
	}

	for tag, want := range map[string]string{"1.0": v1.Descriptor().Digest.String(), "2.0": v2.Descriptor().Digest.String()} {
		if d, _ := skopeoInspect(t, "oci:"+dir+":"+tag); d != want {
			t.Errorf("skopeo inspect oci:DIR:%s = %s, want %s", tag, d, want)
		}
	}
	regtest.Run(t, "skopeo", "copy", "--dest-tls-verify=false", "oci:"+dir+":2.0", "docker://"+srv.Host+"/app:2.0")
	if d, err := srv.Store.HeadManifest(ctx, "app", "2.0"); err != nil || d.Digest != v2.Descriptor().Digest {
		t.Errorf("fake app:2.0 after skopeo copy = %s, %v; want %s", d.Digest, err, v2.Descriptor().Digest)
	}
}
