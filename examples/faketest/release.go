// Package faketest shows how to test your own code that uses regkit: the code
// under test takes a *repository.Repository, and its test hands it one from
// the in-memory registry of package fake. See release_test.go.
package faketest

import (
	"context"
	"errors"
	"fmt"

	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// Release makes version the repository's latest, but only if latest still
// points where the caller last saw it, so two release jobs never undo each
// other. It returns the digest latest pointed at before.
func Release(ctx context.Context, repo *repository.Repository, version string) (string, error) {
	next, err := repo.Tag(version).Resolve(ctx)
	if err != nil {
		return "", fmt.Errorf("release %s: %w", version, err)
	}
	prev, err := repo.Tag("latest").Resolve(ctx)
	switch {
	case errors.Is(err, transport.ErrManifestUnknown): // the first release
		return "", repo.Tag("latest").Point(ctx, next)
	case err != nil:
		return "", fmt.Errorf("release %s: %w", version, err)
	}
	if err := repo.Tag("latest").PointIf(ctx, next, prev.Digest); err != nil {
		return "", fmt.Errorf("release %s: %w", version, err)
	}
	return prev.Digest.String(), nil
}
