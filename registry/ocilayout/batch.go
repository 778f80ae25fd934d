package ocilayout

import (
	"context"
	"errors"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

var _ transport.TagBatcher = (*Store)(nil)

// Batch runs f, and writes the index.json of repo once for all the
// manifests that the puts to repo made under f's context list, when f
// returns, instead of once per put: it implements [transport.TagBatcher],
// which Mirror and Copy use when their destination is a layout.
//
// A put under the batch stores the manifest blob at once, with the checks
// of [Store.PutManifest], and returns; its tags are written when f
// returns, whether f failed or not, so that index.json then lists every
// put that returned nil, in the order they returned. Until then, reads of
// the Store (a tag resolve, ListTags) do not see them; a put by digest
// that lists an earlier put's manifest as a child finds its blob. A put
// with IfMatch, and a delete, write what the batch holds first, then run
// as outside a batch. If the process stops before f returns, index.json
// is as it was before the batch: none of its tags are written, and the
// manifest blobs stay, unlisted. If the final write fails, Batch returns
// its error, and index.json is unchanged.
//
// Only calls with f's context (or one derived from it) join the batch, so
// other callers of the Store are unaffected; the batch holds no lock while
// f runs.
func (s *Store) Batch(ctx context.Context, repo string, f func(ctx context.Context) error) error {
	if err := s.begin(ctx, repo); err != nil {
		return err
	}
	if s.batchOf(ctx, repo) != nil {
		return f(ctx)
	}
	parent, _ := ctx.Value(batchKey{}).(*batch)
	b := &batch{s: s, repo: repo, parent: parent}
	err := f(context.WithValue(ctx, batchKey{}, b))
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
	return errors.Join(err, s.flush(b))
}

// batchKey is the context key of the innermost batch.
type batchKey struct{}

// batch is a Batch under way: the index edits of its puts, not yet
// written.
type batch struct {
	s      *Store
	repo   string
	parent *batch // the batch around it, of another Store or repository

	mu   sync.Mutex
	ops  []batchOp
	done bool // f returned: later puts write at once
}

// batchOp is the index edit of one put: its tags, or an untagged listing
// when there are none.
type batchOp struct {
	tags []string
	desc ocispec.Descriptor
}

// batchOf returns the batch of repo of the Store that ctx is in, or nil.
func (s *Store) batchOf(ctx context.Context, repo string) *batch {
	b, _ := ctx.Value(batchKey{}).(*batch)
	for ; b != nil; b = b.parent {
		if b.s == s && b.repo == repo {
			return b
		}
	}
	return nil
}

// record records op in b, unless b has ended; it reports whether it did.
func (b *batch) record(op batchOp) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return false
	}
	b.ops = append(b.ops, op)
	return true
}

// take returns the edits b holds and forgets them.
func (b *batch) take() []batchOp {
	b.mu.Lock()
	defer b.mu.Unlock()
	ops := b.ops
	b.ops = nil
	return ops
}

// apply makes the edit op to x, and reports whether x changed.
func (op batchOp) apply(x *index) bool {
	changed := false
	for _, t := range op.tags {
		changed = x.setTag(t, op.desc) || changed
	}
	if len(op.tags) == 0 {
		changed = x.addUntagged(op.desc)
	}
	return changed
}

// flush writes the edits that batch b holds, if any, in one write
// of index.json. b may be nil.
func (s *Store) flush(b *batch) error {
	if b == nil {
		return nil
	}
	ops := b.take()
	if len(ops) == 0 {
		return nil
	}
	return s.withLock(b.repo, func() error {
		if err := s.openRepo(b.repo); err != nil {
			return err
		}
		x, err := s.readIndex(b.repo)
		if err != nil {
			return err
		}
		changed := false
		for _, op := range ops {
			changed = op.apply(x) || changed
		}
		if !changed {
			return nil
		}
		return s.writeIndex(b.repo, x)
	})
}
