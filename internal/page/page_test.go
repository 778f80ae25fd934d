package page

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/regkit/regkit/transport"
)

// pages serves items in pages of n, with the cursor being the next index.
func pages(items []string, calls *int) Fetch[string] {
	return func(_ context.Context, req transport.PageRequest) (transport.Page[string], error) {
		*calls++
		start := 0
		if req.Next != "" {
			start, _ = strconv.Atoi(req.Next)
		} else if req.Last != "" {
			start = slices.Index(items, req.Last) + 1
		}
		n := req.N
		if n == 0 {
			n = 3
		}
		end := min(start+n, len(items))
		p := transport.Page[string]{Items: items[start:end]}
		if end < len(items) {
			p.Next = strconv.Itoa(end)
		}
		return p, nil
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	items := []string{"a", "b", "c", "d", "e", "f", "g"}
	tests := []struct {
		name      string
		first     transport.PageRequest
		maxPages  int
		want      []string
		wantErr   error
		wantCalls int
	}{
		{name: "default pages", want: items, wantCalls: 3},
		{name: "pages of 2", first: transport.PageRequest{N: 2}, want: items, wantCalls: 4},
		{name: "after c", first: transport.PageRequest{N: 10, Last: "c"}, want: items[3:], wantCalls: 1},
		{name: "page cap", first: transport.PageRequest{N: 2}, maxPages: 2, want: items[:4], wantErr: transport.ErrTooManyPages, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			var got []string
			var err error
			for v, e := range All(t.Context(), "letters", tc.first, tc.maxPages, pages(items, &calls)) {
				if e != nil {
					err = e
					break
				}
				got = append(got, v)
			}
			if !errors.Is(err, tc.wantErr) || !slices.Equal(got, tc.want) || calls != tc.wantCalls {
				t.Errorf("All(%+v, %d) = %v, %v after %d calls; want %v, %v after %d", tc.first, tc.maxPages, got, err, calls, tc.want, tc.wantErr, tc.wantCalls)
			}
		})
	}
}

func TestAllLoopingCursor(t *testing.T) {
	t.Parallel()
	loop := func(context.Context, transport.PageRequest) (transport.Page[string], error) {
		return transport.Page[string]{Items: []string{"x"}, Next: "same"}, nil
	}
	var err error
	n := 0
	for _, e := range All(t.Context(), "loop", transport.PageRequest{}, 0, loop) {
		if e != nil {
			err = e
		}
		n++
		if n > 10 {
			t.Fatal("iterator did not stop on a repeated cursor")
		}
	}
	if err == nil {
		t.Fatal("All over a looping cursor ended without an error")
	}
}

func TestAllFetchError(t *testing.T) {
	t.Parallel()
	fail := func(context.Context, transport.PageRequest) (transport.Page[string], error) {
		return transport.Page[string]{}, transport.ErrNameUnknown
	}
	for _, err := range All(t.Context(), "x", transport.PageRequest{}, 0, fail) {
		if !errors.Is(err, transport.ErrNameUnknown) {
			t.Fatalf("error = %v, want ErrNameUnknown", err)
		}
	}
}
