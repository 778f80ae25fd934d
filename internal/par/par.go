// Package par runs the blob transfers of one operation (push, copy) in
// parallel, within the limits the transports involved set.
package par

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/regkit/regkit/transport"
)

// DefaultWorkers is how many transfers one operation runs at once unless
// told otherwise.
const DefaultWorkers = 8

// ForEach calls f for 0 ≤ i < n, at most limit calls at once. The first
// error cancels the context of the others and is returned once all calls
// have returned: no goroutine outlives ForEach. A limit below 1 means
// DefaultWorkers.
func ForEach(ctx context.Context, limit, n int, f func(ctx context.Context, i int) error) error {
	if limit < 1 {
		limit = DefaultWorkers
	}
	if n == 1 || limit == 1 {
		for i := range n {
			if err := f(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, limit)
loop:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx)
}

// Acquire takes a transfer slot of each of ts that has a
// [transport.Limiter] (found under decorators with [transport.Find]), once
// per distinct limiter. Limiters are taken in one
// order whatever the order of ts (that of their addresses), so that a copy
// from A to B and one from B to A cannot each hold a slot the other waits
// for. release frees them all.
func Acquire(ctx context.Context, ts ...transport.Transport) (release func(), err error) {
	var ls []transport.Limiter
	for _, t := range ts {
		if l, ok := transport.Find[transport.Limiter](t); ok && !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	slices.SortFunc(ls, func(a, b transport.Limiter) int { return cmp.Compare(address(a), address(b)) })
	var releases []func()
	release = func() {
		for i := len(releases) - 1; i >= 0; i-- {
			releases[i]()
		}
	}
	for _, l := range ls {
		r, err := l.Acquire(ctx)
		if err != nil {
			release()
			return nil, err
		}
		releases = append(releases, r)
	}
	return release, nil
}

// address returns the address a limiter points at, or 0 for one that is
// not a pointer.
func address(l transport.Limiter) uintptr {
	if v := reflect.ValueOf(l); v.Kind() == reflect.Pointer {
		return v.Pointer()
	}
	return 0
}
