package registrytest

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

func collect[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatalf("iteration failed after %d items: %v", len(out), err)
		}
		out = append(out, v)
	}
	return out
}

func testTags(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	repo := e.reg.Repository(name)
	img := newImage(t, linuxAMD64, 1)
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("v%02d", i))
	}
	e.mustPush(t, name, img, want...)

	tests := []struct {
		name      string
		opts      *repository.ListOptions
		want      []string
		wantErr   error
		wantCalls int // ListTags calls, when the loop runs to the end
	}{
		{name: "defaults", opts: nil, want: want},
		{name: "pages of 10", opts: &repository.ListOptions{PageSize: 10}, want: want, wantCalls: 3},
		{name: "resume after v19", opts: &repository.ListOptions{Last: "v19", PageSize: 4}, want: want[20:], wantCalls: 2},
		{name: "page cap", opts: &repository.ListOptions{PageSize: 10, MaxPages: 2}, want: want[:20], wantErr: transport.ErrTooManyPages, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.count.reset()
			var got []string
			var err error
			for name, e := range repo.Tags(e.ctx, tc.opts) {
				if e != nil {
					err = e
					break
				}
				got = append(got, name)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Tags(%+v) error = %v, want %v", tc.opts, err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Tags(%+v) = %v, want %v", tc.opts, got, tc.want)
			}
			if n := e.count.take("ListTags"); tc.wantCalls > 0 && n != tc.wantCalls {
				t.Errorf("Tags(%+v) made %d ListTags calls, want %d", tc.opts, n, tc.wantCalls)
			}
		})
	}
	t.Run("early break fetches one page", func(t *testing.T) {
		e.count.reset()
		for range repo.Tags(e.ctx, &repository.ListOptions{PageSize: 5}) {
			break
		}
		if n := e.count.take("ListTags"); n != 1 {
			t.Errorf("break after the first tag: %d ListTags calls, want 1", n)
		}
	})
	t.Run("unknown repository", func(t *testing.T) {
		for _, err := range e.reg.Repository(e.repo("nothing-here")).Tags(e.ctx, nil) {
			if !errors.Is(err, transport.ErrNameUnknown) {
				t.Errorf("Tags(unknown repository) = %v, want ErrNameUnknown", err)
			}
			return
		}
		t.Error("Tags(unknown repository) yielded nothing, want ErrNameUnknown")
	})
}

func testRepositories(t *testing.T, s *suite) {
	if s.caps.NoCatalog {
		t.Skip("the backend has no catalog")
	}
	e := s.env(t)
	img := newImage(t, linuxAMD64, 1)
	var want []string
	for i := 1; i <= 25; i++ {
		want = append(want, e.repo(fmt.Sprintf("myapp%d", i)))
		e.mustPush(t, want[len(want)-1], img, "1.0")
	}
	slices.Sort(want) // lexical: myapp1, myapp10, myapp11, …
	mine := func(opts *repository.ListOptions) []string {
		var got []string
		for name, err := range e.reg.Repositories(e.ctx, opts) {
			if err != nil {
				t.Fatalf("Repositories(%+v): %v", opts, err)
			}
			if strings.HasPrefix(name, e.prefix+"/") {
				got = append(got, name)
			}
		}
		return got
	}
	if got := mine(nil); !slices.Equal(got, want) {
		t.Fatalf("Repositories() = %v, want %v", got, want)
	}
	if got := mine(&repository.ListOptions{PageSize: 7}); !slices.Equal(got, want) {
		t.Fatalf("Repositories(pages of 7) = %v, want %v", got, want)
	}
	if got := mine(&repository.ListOptions{Last: want[9], PageSize: 5}); !slices.Equal(got, want[10:]) {
		t.Fatalf("Repositories(after %s) = %v, want %v", want[9], got, want[10:])
	}
}
