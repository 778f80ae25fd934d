package progress_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/repository/progress"
)

// recorder collects the events an observer receives.
type recorder struct {
	mu     sync.Mutex
	events []progress.Event
}

func (r *recorder) observe(p progress.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, p)
}

func (r *recorder) got() []progress.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func TestReport(t *testing.T) {
	t.Parallel()
	event := progress.Event{
		Kind:       progress.BlobBytes,
		Repository: "myapp1",
		Descriptor: ocispec.Descriptor{Digest: digest.FromString("layer"), Size: 5},
		Done:       3,
	}
	tests := []struct {
		name      string
		ctx       func(outer, inner func(progress.Event)) context.Context
		wantOuter int // events the outer observer gets
		wantInner int // events the inner observer gets
	}{
		{
			name:      "no observer",
			ctx:       func(_, _ func(progress.Event)) context.Context { return context.Background() },
			wantOuter: 0, wantInner: 0,
		},
		{
			name: "observer",
			ctx: func(outer, _ func(progress.Event)) context.Context {
				return progress.With(context.Background(), outer)
			},
			wantOuter: 1, wantInner: 0,
		},
		{
			name: "inner observer replaces outer",
			ctx: func(outer, inner func(progress.Event)) context.Context {
				return progress.With(progress.With(context.Background(), outer), inner)
			},
			wantOuter: 0, wantInner: 1,
		},
		{
			name: "nil removes the observer",
			ctx: func(outer, _ func(progress.Event)) context.Context {
				return progress.With(progress.With(context.Background(), outer), nil)
			},
			wantOuter: 0, wantInner: 0,
		},
		{
			name: "observer survives derived contexts",
			ctx: func(outer, _ func(progress.Event)) context.Context {
				ctx, cancel := context.WithCancel(progress.With(context.Background(), outer))
				t.Cleanup(cancel)
				return context.WithValue(ctx, struct{ k int }{1}, "other")
			},
			wantOuter: 1, wantInner: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var outer, inner recorder
			obs, _ := progress.Take(tc.ctx(outer.observe, inner.observe))
			obs.Report(event)
			for _, c := range []struct {
				name string
				rec  *recorder
				want int
			}{{"outer", &outer, tc.wantOuter}, {"inner", &inner, tc.wantInner}} {
				got := c.rec.got()
				if len(got) != c.want {
					t.Fatalf("%s observer got %d events, want %d", c.name, len(got), c.want)
				}
				for _, p := range got {
					if p.Kind != event.Kind || p.Repository != event.Repository || p.Descriptor.Digest != event.Descriptor.Digest || p.Done != event.Done {
						t.Errorf("%s observer got %+v, want %+v", c.name, p, event)
					}
				}
			}
		})
	}
}

// TestReportConcurrent reports from many goroutines at once: the
// observer gets every event (run with -race).
func TestReportConcurrent(t *testing.T) {
	t.Parallel()
	var rec recorder
	obs, _ := progress.Take(progress.With(t.Context(), rec.observe))
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			obs.Report(progress.Event{Kind: progress.BlobBytes, Done: int64(i)})
		})
	}
	wg.Wait()
	got := rec.got()
	if len(got) != n {
		t.Fatalf("observer got %d events, want %d", len(got), n)
	}
	seen := map[int64]bool{}
	for _, p := range got {
		seen[p.Done] = true
	}
	if len(seen) != n {
		t.Errorf("observer got %d distinct events, want %d", len(seen), n)
	}
}

func TestProgressKindString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind progress.Kind
		want string
	}{
		{progress.BlobStarted, "blob started"},
		{progress.BlobSkipped, "blob skipped"},
		{progress.BlobMounted, "blob mounted"},
		{progress.BlobBytes, "blob bytes"},
		{progress.BlobVerified, "blob verified"},
		{progress.BlobDone, "blob done"},
		{progress.ManifestDone, "manifest done"},
		{0, "unknown"},
		{progress.ManifestDone + 1, "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := tc.kind.String(); got != tc.want {
				t.Errorf("ProgressKind(%d).String() = %q, want %q", int(tc.kind), got, tc.want)
			}
		})
	}
}

// TestTake checks that Take hands the observer to the operation that takes
// it and leaves none in the context it returns, for what the operation
// calls inside; the caller's context keeps it.
func TestTake(t *testing.T) {
	t.Parallel()
	var rec recorder
	ctx := progress.With(t.Context(), rec.observe)
	obs, inner := progress.Take(ctx)
	if obs == nil {
		t.Fatal("Take returned no observer from a context that carries one")
	}
	if again, _ := progress.Take(inner); again != nil {
		t.Error("the context Take returned still carries the observer")
	}
	if again, _ := progress.Take(ctx); again == nil {
		t.Error("Take removed the observer from the caller's context")
	}
	obs.Report(progress.Event{Kind: progress.ManifestDone})
	if got := rec.got(); len(got) != 1 {
		t.Errorf("observer got %d events, want 1", len(got))
	}
	none, same := progress.Take(t.Context())
	none.Report(progress.Event{Kind: progress.ManifestDone}) // a nil Observer drops it
	if none != nil || same != t.Context() {
		t.Error("Take of a context without an observer changed it")
	}
}
