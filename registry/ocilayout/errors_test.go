package ocilayout_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/transport"
)

// TestRefusalsKeepTheirCause checks that the layout's refusals match both
// the transport code and the error of the package that found the fault.
func TestRefusalsKeepTheirCause(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	base := newImage(t, 1, nil)
	push(t, s, "app", base, "1.0")
	withManifests := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + string(base.Config().Descriptor().Digest) + `","size":` + strconv.FormatInt(base.Config().Descriptor().Size, 10) + `},"layers":[],"manifests":[]}`)
	_, err := s.PutManifest(ctx, "app", "x", "", withManifests, nil)
	if !errors.Is(err, transport.ErrManifestInvalid) || !errors.Is(err, image.ErrInvalid) {
		t.Errorf("PutManifest(image manifest with manifests) = %v, want ErrManifestInvalid and image.ErrInvalid", err)
	}
	_, err = s.PutManifest(ctx, "app", "-x", "", base.Raw(), nil)
	if !errors.Is(err, transport.ErrTagInvalid) || !errors.Is(err, reference.ErrInvalidTag) {
		t.Errorf("PutManifest(tag -x) = %v, want ErrTagInvalid and reference.ErrInvalidTag", err)
	}
	if _, err := s.DeleteTag(ctx, "app", "-x"); !errors.Is(err, transport.ErrTagInvalid) || !errors.Is(err, reference.ErrInvalidTag) {
		t.Errorf("DeleteTag(-x) = %v, want ErrTagInvalid and reference.ErrInvalidTag", err)
	}
}
