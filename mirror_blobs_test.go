package regkit

import (
	"context"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

// TestKnownBlobs claims one blob from several copies at once: one copies
// it, the others wait; when that copy fails, the next one copies it; once
// one succeeded, every later claim knows dst has it.
func TestKnownBlobs(t *testing.T) {
	t.Parallel()
	k := newKnownBlobs()
	d := digest.FromString("layer")
	ctx := t.Context()

	have, done, err := k.claim(ctx, d)
	require.NoError(t, err)
	require.False(t, have)

	// Three more copies want it while the first copies it.
	var wg sync.WaitGroup
	results := make(chan bool, 3)
	for range 3 {
		wg.Go(func() {
			have, done, err := k.claim(ctx, d)
			require.NoError(t, err)
			if !have {
				done(true) // the copy after a failed one succeeds
			}
			results <- have
		})
	}
	done(false) // the first copy fails
	wg.Wait()
	close(results)
	var copied int
	for have := range results {
		if !have {
			copied++
		}
	}
	require.Equal(t, 1, copied, "one waiter copied it after the failure; the others knew")

	have, _, err = k.claim(ctx, d)
	require.NoError(t, err)
	require.True(t, have)

	// A claim that waits ends with its context.
	other := digest.FromString("other")
	_, _, err = k.claim(ctx, other)
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = k.claim(cctx, other)
	require.ErrorIs(t, err, context.Canceled)
}
