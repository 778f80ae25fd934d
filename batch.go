package regkit

import (
	"context"

	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// batched runs f in a batch of the tag writes to dst when its transport
// offers one ([transport.TagBatcher], as an OCI layout does, which then
// rewrites its index.json once for all of them), else runs it as it is.
func batched(ctx context.Context, dst *repository.Repository, f func(ctx context.Context) error) error {
	if tb, ok := transport.Find[transport.TagBatcher](dst.Transport()); ok {
		return tb.Batch(ctx, dst.Name(), f)
	}
	return f(ctx)
}
