package par

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regkit/regkit/transport"
)

// plain is a Transport that is no Limiter.
type plain struct{ transport.Transport }

// limited is a Transport whose Limiter counts the slots held.
type limited struct {
	transport.Transport // nil: only Acquire is called
	slots               chan struct{}
	held, maxHeld       atomic.Int32
	order               *[]*limited
	mu                  *sync.Mutex
}

func newLimited(n int, order *[]*limited, mu *sync.Mutex) *limited {
	return &limited{slots: make(chan struct{}, n), order: order, mu: mu}
}

func (l *limited) Acquire(ctx context.Context) (func(), error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if l.mu != nil {
		l.mu.Lock()
		*l.order = append(*l.order, l)
		l.mu.Unlock()
	}
	h := l.held.Add(1)
	for {
		m := l.maxHeld.Load()
		if h <= m || l.maxHeld.CompareAndSwap(m, h) {
			break
		}
	}
	return func() { l.held.Add(-1); <-l.slots }, nil
}

func TestForEach(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		limit   int
		n       int
		failAt  int // -1: none
		wantMax int32
		wantErr error
	}{
		{name: "bounded", limit: 3, n: 10, failAt: -1, wantMax: 3},
		{name: "default", limit: 0, n: 20, failAt: -1, wantMax: DefaultWorkers},
		{name: "one", limit: 1, n: 5, failAt: -1, wantMax: 1},
		{name: "single item", limit: 4, n: 1, failAt: -1, wantMax: 1},
		{name: "none", limit: 4, n: 0, failAt: -1, wantMax: 0},
		{name: "first error wins", limit: 4, n: 10, failAt: 2, wantErr: boom},
		{name: "first error, in series", limit: 1, n: 10, failAt: 2, wantErr: boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var cur, maxSeen, calls atomic.Int32
			// Each call waits until wantMax calls are under way at once
			// (or 10 s pass), so that reaching the bound does not depend on
			// timing.
			gate := make(chan struct{})
			var open sync.Once
			err := ForEach(t.Context(), tc.limit, tc.n, func(ctx context.Context, i int) error {
				calls.Add(1)
				c := cur.Add(1)
				defer cur.Add(-1)
				for m := maxSeen.Load(); c > m && !maxSeen.CompareAndSwap(m, c); m = maxSeen.Load() {
				}
				if c >= tc.wantMax {
					open.Do(func() { close(gate) })
				}
				if i == tc.failAt {
					return boom
				}
				select {
				case <-gate:
				case <-time.After(10 * time.Second):
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ForEach = %v, want %v", err, tc.wantErr)
			}
			if cur.Load() != 0 {
				t.Errorf("%d calls still running after ForEach returned", cur.Load())
			}
			if tc.wantErr == nil {
				if maxSeen.Load() != tc.wantMax || int(calls.Load()) != tc.n {
					t.Errorf("max at once %d (want %d), calls %d (want %d)", maxSeen.Load(), tc.wantMax, calls.Load(), tc.n)
				}
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := ForEach(ctx, 2, 5, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("ForEach(cancelled) = %v, want context.Canceled", err)
	}
}

func TestAcquireSharesTheLimitAcrossOperations(t *testing.T) {
	t.Parallel()
	l := newLimited(2, nil, nil)
	var wg sync.WaitGroup
	for range 3 { // three operations of 8 workers each
		wg.Go(func() {
			_ = ForEach(t.Context(), 8, 8, func(ctx context.Context, i int) error {
				release, err := Acquire(ctx, l, l) // the same limiter twice: one slot
				if err != nil {
					return err
				}
				defer release()
				time.Sleep(time.Millisecond)
				return nil
			})
		})
	}
	wg.Wait()
	if m := l.maxHeld.Load(); m > 2 || m == 0 || l.held.Load() != 0 {
		t.Errorf("slots held at most %d (want 1 or 2), %d left held", m, l.held.Load())
	}
}

func TestAcquireOrderAndRelease(t *testing.T) {
	t.Parallel()
	var order []*limited
	var mu sync.Mutex
	a, b := newLimited(1, &order, &mu), newLimited(1, &order, &mu)
	// Whatever the order given, the limiters are taken in one order.
	for _, ts := range [][]transport.Transport{{a, b}, {b, a}, {plain{}, b, a}} {
		order = nil
		release, err := Acquire(t.Context(), ts...)
		if err != nil {
			t.Fatal(err)
		}
		if len(order) != 2 || order[0] == order[1] {
			t.Fatalf("took %d limiters", len(order))
		}
		first := order[0]
		release()
		order = nil
		release, _ = Acquire(t.Context(), b, a)
		if order[0] != first {
			t.Error("Acquire took the limiters in the order given, not one fixed order")
		}
		release()
	}
	// A slot that cannot be had releases those already taken.
	hold, _ := Acquire(t.Context(), b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, a, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with b held = %v, want DeadlineExceeded", err)
	}
	if a.held.Load() != 0 {
		t.Error("a's slot kept after the failed Acquire")
	}
	hold()
}
