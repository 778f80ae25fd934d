package faketest

import (
	"bytes"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/image/validate"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// pushVersion pushes a small image under tag and returns its descriptor.
func pushVersion(t *testing.T, reg *fake.Registry, tag string) ocispec.Descriptor {
	t.Helper()
	// A gzip'd layer of one file, built in memory: its descriptor and
	// diff_id come out of the same pass.
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o644, Content: []byte("version " + tag)}}).
		Encode(t.Context(), &tgz)
	if err != nil {
		t.Fatal(err)
	}
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /")
	img, err := b.Image(nil)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := reg.Repository("myapp1").Push(t.Context(), img, tag)
	if err != nil {
		t.Fatal(err)
	}
	// What the test pushed is a valid image, read back from the registry.
	if err := validate.Manifest(t.Context(), reg.Repository("myapp1"), desc); err != nil {
		t.Fatal(err)
	}
	return desc
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name     string
		tags     []string // pushed before the release, in order
		latest   string   // where latest points before; "" for nowhere
		release  string
		wantErr  error
		wantPrev string // tag latest pointed at before, "" for none
	}{
		{name: "first release", tags: []string{"1.0"}, release: "1.0"},
		{name: "moves latest", tags: []string{"1.0", "2.0"}, latest: "1.0", release: "2.0", wantPrev: "1.0"},
		{name: "unknown version", tags: []string{"1.0"}, latest: "1.0", release: "9.9", wantErr: transport.ErrManifestUnknown},
		{name: "invalid tag", tags: []string{"1.0"}, release: "not a tag", wantErr: transport.ErrTagInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := fake.New() // each test gets its own registry, in memory
			descs := map[string]ocispec.Descriptor{}
			for _, tag := range tc.tags {
				descs[tag] = pushVersion(t, reg, tag)
			}
			repo := reg.Repository("myapp1")
			if tc.latest != "" {
				if err := repo.Tag("latest").Point(t.Context(), descs[tc.latest]); err != nil {
					t.Fatal(err)
				}
			}

			prev, err := Release(t.Context(), repo, tc.release)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Release(%q) error = %v, want %v", tc.release, err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if want := descs[tc.wantPrev].Digest.String(); prev != want {
				t.Errorf("Release(%q) previous = %q, want %q", tc.release, prev, want)
			}
			got, err := repo.Tag("latest").Resolve(t.Context())
			if err != nil || got.Digest != descs[tc.release].Digest {
				t.Errorf("after Release(%q), latest = %s (%v), want %s", tc.release, got.Digest, err, descs[tc.release].Digest)
			}
		})
	}
}
