package transport_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// recorder collects the events an observer receives.
type recorder struct {
	mu     sync.Mutex
	events []transport.Progress
}

func (r *recorder) observe(p transport.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, p)
}

func (r *recorder) got() []transport.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func TestReportProgress(t *testing.T) {
	t.Parallel()
	event := transport.Progress{
		Kind:       transport.BlobBytes,
		Repository: "myapp1",
		Descriptor: ocispec.Descriptor{Digest: digest.FromString("layer"), Size: 5},
		Done:       3,
	}
	tests := []struct {
		name      string
		ctx       func(outer, inner func(transport.Progress)) context.Context
		wantOuter int // events the outer observer gets
		wantInner int // events the inner observer gets
	}{
		{
			name:      "no observer",
			ctx:       func(_, _ func(transport.Progress)) context.Context { return context.Background() },
			wantOuter: 0, wantInner: 0,
		},
		{
			name: "observer",
			ctx: func(outer, _ func(transport.Progress)) context.Context {
				return transport.WithProgress(context.Background(), outer)
			},
			wantOuter: 1, wantInner: 0,
		},
		{
			name: "inner observer replaces outer",
			ctx: func(outer, inner func(transport.Progress)) context.Context {
				return transport.WithProgress(transport.WithProgress(context.Background(), outer), inner)
			},
			wantOuter: 0, wantInner: 1,
		},
		{
			name: "nil removes the observer",
			ctx: func(outer, _ func(transport.Progress)) context.Context {
				return transport.WithProgress(transport.WithProgress(context.Background(), outer), nil)
			},
			wantOuter: 0, wantInner: 0,
		},
		{
			name: "observer survives derived contexts",
			ctx: func(outer, _ func(transport.Progress)) context.Context {
				ctx, cancel := context.WithCancel(transport.WithProgress(context.Background(), outer))
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
			transport.ReportProgress(tc.ctx(outer.observe, inner.observe), event)
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

// TestReportProgressConcurrent reports from many goroutines at once: the
// observer gets every event (run with -race).
func TestReportProgressConcurrent(t *testing.T) {
	t.Parallel()
	var rec recorder
	ctx := transport.WithProgress(t.Context(), rec.observe)
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			transport.ReportProgress(ctx, transport.Progress{Kind: transport.BlobBytes, Done: int64(i)})
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
		kind transport.ProgressKind
		want string
	}{
		{transport.BlobStarted, "blob started"},
		{transport.BlobSkipped, "blob skipped"},
		{transport.BlobMounted, "blob mounted"},
		{transport.BlobBytes, "blob bytes"},
		{transport.BlobVerified, "blob verified"},
		{transport.BlobDone, "blob done"},
		{transport.ManifestDone, "manifest done"},
		{0, "unknown"},
		{transport.ManifestDone + 1, "unknown"},
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
