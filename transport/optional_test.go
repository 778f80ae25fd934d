package transport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/regkit/regkit/transport"
)

// backend is a Transport (its methods are never called) with a retry
// policy and an origin.
type backend struct {
	transport.Transport
	runs int
}

func (b *backend) Retry(ctx context.Context, op func() error) error {
	for {
		b.runs++
		if err := op(); err == nil || b.runs == 3 {
			return err
		}
	}
}

func (b *backend) Origin() string { return "https://r.example" }

// decorator wraps a Transport and says so.
type decorator struct{ transport.Transport }

func (d decorator) Unwrap() transport.Transport { return d.Transport }

// sealed wraps a Transport without Unwrap.
type sealed struct{ transport.Transport }

// renamed is a decorator with an origin of its own.
type renamed struct{ decorator }

func (renamed) Origin() string { return "https://mirror.example" }

// loop unwraps to itself.
type loop struct{ transport.Transport }

func (l *loop) Unwrap() transport.Transport { return l }

// toNil unwraps to nil.
type toNil struct{ transport.Transport }

func (toNil) Unwrap() transport.Transport { return nil }

// TestFind follows Unwrap chains to the first layer with the capability.
func TestFind(t *testing.T) {
	t.Parallel()
	b := &backend{}
	deep := transport.Transport(b)
	for range 10 {
		deep = decorator{deep}
	}
	tests := []struct {
		name       string
		t          transport.Transport
		want       bool
		wantOrigin string
	}{
		{"the backend itself", b, true, "https://r.example"},
		{"under a decorator", decorator{b}, true, "https://r.example"},
		{"under ten decorators", deep, true, "https://r.example"},
		{"the outermost layer wins", renamed{decorator{b}}, true, "https://mirror.example"},
		{"hidden by a decorator without Unwrap", sealed{b}, false, ""},
		{"hidden under one", decorator{sealed{b}}, false, ""},
		{"a chain that ends in nil", toNil{}, false, ""},
		{"a chain that loops", &loop{}, false, ""},
		{"nil", nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := transport.Find[transport.Originer](tc.t)
			if ok != tc.want {
				t.Fatalf("Find[Originer] ok = %v, want %v", ok, tc.want)
			}
			if ok && o.Origin() != tc.wantOrigin {
				t.Errorf("Origin() = %q, want %q", o.Origin(), tc.wantOrigin)
			}
		})
	}
}

// TestRetry runs op under the policy of the Retrier found under
// decorators, and once without one.
func TestRetry(t *testing.T) {
	t.Parallel()
	fail := errors.New("transient")
	tests := []struct {
		name     string
		wrap     func(transport.Transport) transport.Transport
		wantRuns int
	}{
		{"the backend", func(t transport.Transport) transport.Transport { return t }, 3},
		{"a decorator with Unwrap", func(t transport.Transport) transport.Transport { return decorator{t} }, 3},
		{"a decorator without Unwrap", func(t transport.Transport) transport.Transport { return sealed{t} }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			err := transport.Retry(t.Context(), tc.wrap(&backend{}), func() error {
				runs++
				return fail
			})
			if !errors.Is(err, fail) || runs != tc.wantRuns {
				t.Errorf("Retry = %v after %d runs, want %v after %d", err, runs, fail, tc.wantRuns)
			}
		})
	}
}
