package tag_test

import (
	"errors"
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// TestNotFoundKeepsNameUnknown checks that a backend that knows a repository
// is missing still says so: the in-memory fake's ErrNameUnknown is kept
// beside the ErrManifestUnknown every backend gives for a missing tag.
func TestNotFoundKeepsNameUnknown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tg := fake.New().Repository("never-pushed").Tag("1.0")
	_, resolveErr := tg.Resolve(ctx)
	_, imageErr := tg.Image(ctx)
	for name, err := range map[string]error{"Resolve": resolveErr, "Image": imageErr} {
		for _, want := range []error{transport.ErrManifestUnknown, transport.ErrNameUnknown, transport.ErrNotFound} {
			if !errors.Is(err, want) {
				t.Errorf("%s in a missing repository = %v, does not match %v", name, err, want)
			}
		}
	}
}
