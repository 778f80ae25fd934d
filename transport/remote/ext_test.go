package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regkit/regkit/internal/page"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// newExtMux starts a server of a new mux and a client of it.
func newExtMux(t *testing.T, opts ...remote.Option) (*http.ServeMux, *remote.Client) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := remote.New(strings.TrimPrefix(srv.URL, "http://"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return mux, c
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	mux, c := newExtMux(t)
	var calls atomic.Int32
	tags := []string{"a", "b", "c", "d", "e"}
	mux.HandleFunc("GET /v2/x/tags/list", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		last := r.URL.Query().Get("last")
		start := 0
		if last != "" {
			start = slices.Index(tags, last) + 1
		}
		end := min(start+2, len(tags))
		if end < len(tags) {
			w.Header().Set("Link", fmt.Sprintf(`</v2/x/tags/list?n=2&last=%s>; rel="next"`, tags[end-1]))
		}
		fmt.Fprintf(w, `{"tags":["%s"]}`, strings.Join(tags[start:end], `","`))
	})
	var got []string
	for tag, err := range page.All(t.Context(), "tags", transport.PageRequest{N: 2}, 0, func(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
		return c.ListTags(ctx, "x", req)
	}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tag)
	}
	if !slices.Equal(got, tags) || calls.Load() != 3 {
		t.Errorf("paged %v in %d requests, want %v in 3", got, calls.Load(), tags)
	}
}

func TestListLinkLoop(t *testing.T) {
	t.Parallel()
	mux, c := newExtMux(t)
	var calls atomic.Int32
	mux.HandleFunc("GET /v2/x/tags/list", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Link", `</v2/x/tags/list?n=1&last=a>; rel="next"`)
		io.WriteString(w, `{"tags":["a"]}`)
	})
	var err error
	for _, e := range page.All(t.Context(), "tags", transport.PageRequest{N: 1}, 0, func(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
		return c.ListTags(ctx, "x", req)
	}) {
		err = e
	}
	if !errors.Is(err, transport.ErrPageLoop) || calls.Load() != 2 {
		t.Errorf("a registry sending the same next page: %v after %d requests, want the loop stopped after 2", err, calls.Load())
	}
}
