package tag_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// TestManifest checks that Tag.Manifest gives the exact bytes and the
// descriptor of what the tag points at: what Repository.Manifest gives by
// digest.
func TestManifest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	repo := fake.New().Repository("myapp1")
	img := appImage("3.0")
	desc, err := repo.Push(ctx, img, "3.0")
	if err != nil {
		t.Fatal(err)
	}
	got, raw, err := repo.Tag("3.0").Manifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != desc.Digest || got.MediaType != desc.MediaType || got.Size != desc.Size || !bytes.Equal(raw, img.Raw()) {
		t.Errorf("Tag.Manifest = %+v, %d bytes; want %+v and the pushed bytes", got, len(raw), desc)
	}
	byDigest, raw2, err := repo.Manifest(ctx, desc.Digest)
	if err != nil || byDigest.Digest != got.Digest || !bytes.Equal(raw2, raw) {
		t.Errorf("Repository.Manifest(%s) = %+v, %v; want what Tag.Manifest gave", desc.Digest, byDigest, err)
	}
	if _, _, err := repo.Tag("4.0").Manifest(ctx); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("Manifest of a missing tag: %v, want ErrManifestUnknown", err)
	}
	if _, _, err := repo.Tag("-bad").Manifest(ctx); !errors.Is(err, transport.ErrTagInvalid) {
		t.Errorf("Manifest of an invalid tag: %v, want ErrTagInvalid", err)
	}
}
