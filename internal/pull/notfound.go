package pull

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// Head returns the descriptor of the manifest ref names in repo, with one
// HeadManifest, reporting a missing one as [ManifestNotFound] does.
func Head(ctx context.Context, t transport.ManifestFetcher, repo, ref string) (ocispec.Descriptor, error) {
	desc, err := t.HeadManifest(ctx, repo, ref)
	if err != nil {
		return ocispec.Descriptor{}, ManifestNotFound(err)
	}
	return desc, nil
}

// ManifestNotFound makes err, the failure of a manifest read, match
// [transport.ErrManifestUnknown] whenever it says the repository is unknown:
// backends that know a repository is missing say [transport.ErrNameUnknown]
// (the in-memory and layout backends, a GET with an error body), others
// cannot tell (a HEAD has no body; distribution answers MANIFEST_UNKNOWN),
// and callers must get the same answer from both. The error keeps matching
// ErrNameUnknown. Other errors are returned as they are.
func ManifestNotFound(err error) error {
	if errors.Is(err, transport.ErrNameUnknown) && !errors.Is(err, transport.ErrManifestUnknown) {
		return transport.Wrap(transport.CodeManifestUnknown, err)
	}
	return err
}

// manifestError is the error of a failed GetManifest of ref in repo.
func manifestError(repo, ref string, err error) error {
	return fmt.Errorf("get manifest %s in %s: %w", ref, repo, ManifestNotFound(err))
}
