package regkit

import (
	"context"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/verify"
	"github.com/regkit/regkit/repository/progress"
)

// knownBlobs are the blobs the copies of one Mirror have made sure dst
// has, and those one of them is copying now. The images of a repository
// share layers: the first copy that needs a blob copies it, a copy that
// needs it at the same time waits for it, and later copies know dst has
// it without asking, which saves a request per shared blob and tag.
type knownBlobs struct {
	mu   sync.Mutex
	have map[digest.Digest]bool
	busy map[digest.Digest]chan struct{} // closed when the copy ends
}

// newKnownBlobs returns an empty set.
func newKnownBlobs() *knownBlobs {
	return &knownBlobs{have: map[digest.Digest]bool{}, busy: map[digest.Digest]chan struct{}{}}
}

// claim reports whether dst has d. If not known, the caller is to copy d
// and call done with whether it succeeded; a caller that finds d being
// copied waits for that copy, and copies d itself if it failed. A copy
// claims a blob only once it holds its transfer slots, so a copy that
// holds a claim waits for nothing but its own I/O.
func (k *knownBlobs) claim(ctx context.Context, d digest.Digest) (have bool, done func(ok bool), err error) {
	for {
		k.mu.Lock()
		if k.have[d] {
			k.mu.Unlock()
			return true, nil, nil
		}
		ch, busy := k.busy[d]
		if !busy {
			ch = make(chan struct{})
			k.busy[d] = ch
			k.mu.Unlock()
			return false, func(ok bool) {
				k.mu.Lock()
				defer k.mu.Unlock()
				delete(k.busy, d)
				k.have[d] = k.have[d] || ok
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false, nil, context.Cause(ctx)
		}
	}
}

// copyKnownBlob is copyBlob within a Mirror: a blob another copy of the
// mirror put in dst is skipped without a request.
func (c *copier) copyKnownBlob(ctx context.Context, d ocispec.Descriptor, item *CopyItem) error {
	have, done, err := c.known.claim(ctx, d.Digest)
	if err != nil {
		return err
	}
	if have {
		*item = CopyItem{Descriptor: d, Action: Skipped}
		verify.NewMeter(c.obs, c.dst.Name(), d).Report(progress.BlobSkipped)
		return nil
	}
	*item, err = c.copyBlob(ctx, d)
	done(err == nil)
	return err
}
