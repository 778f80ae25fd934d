package remote_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// pagesRT serves /v2/x/tags/list in pages of one tag: page k (last=k, the
// first page k=0) links to page next(k), or to none when next says so.
// The links ask n=2, so that a page without one is short, and the last.
type pagesRT struct {
	next     func(k int) (int, bool)
	requests int
}

func (p *pagesRT) RoundTrip(r *http.Request) (*http.Response, error) {
	p.requests++
	k, _ := strconv.Atoi(r.URL.Query().Get("last"))
	h := http.Header{"Content-Type": {"application/json"}}
	if n, ok := p.next(k); ok {
		h.Set("Link", fmt.Sprintf(`</v2/x/tags/list?n=2&last=%d>; rel="next"`, n))
	}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Request: r,
		Body: io.NopCloser(strings.NewReader(fmt.Sprintf(`{"tags":["t%d"]}`, k)))}, nil
}

// TestListPageBounds pages through registries whose Link headers never
// end, or loop: the listing stops at the page bound (by default
// DefaultMaxPages) with a *LimitError matching ErrTooManyPages, or at the
// first page seen again with ErrPageLoop, after a bounded number of
// requests (issue 13, finding 7: endless distinct pages were followed
// forever, 27k requests in 5 s). Each server stops linking at some point,
// so that a listing without a bound ends too.
func TestListPageBounds(t *testing.T) {
	t.Parallel()
	upTo := func(last int) func(int) (int, bool) { return func(k int) (int, bool) { return k + 1, k+1 < last } }
	tests := []struct {
		name         string
		next         func(k int) (int, bool)
		maxPages     int
		wantErr      error
		wantRequests int
	}{
		{name: "endless, default bound", next: upTo(3 * transport.DefaultMaxPages), wantErr: transport.ErrTooManyPages, wantRequests: transport.DefaultMaxPages},
		{name: "endless, MaxPages 5", next: upTo(1000), maxPages: 5, wantErr: transport.ErrTooManyPages, wantRequests: 5},
		{name: "no bound", next: upTo(transport.DefaultMaxPages + 10), maxPages: -1, wantRequests: transport.DefaultMaxPages + 10},
		{name: "real listing", next: upTo(50), wantRequests: 50},
		{name: "at the bound", next: upTo(7), maxPages: 7, wantRequests: 7},
		{name: "loop back two pages", next: func(k int) (int, bool) {
			if k == 2 {
				return 1, true
			}
			return k + 1, true
		}, wantErr: transport.ErrPageLoop, wantRequests: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &pagesRT{next: tc.next}
			c, err := remote.New("r.example", remote.WithRoundTripper(rt))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range repository.New(c, "x").Tags(t.Context(), &repository.ListOptions{MaxPages: tc.maxPages}) {
				if err = e; e == nil {
					n++
				}
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Tags = %d tags, %v; want %v", n, err, tc.wantErr)
			}
			if errors.Is(tc.wantErr, transport.ErrTooManyPages) && !errors.Is(err, transport.ErrLimitExceeded) {
				t.Errorf("Tags = %v, want it to match ErrLimitExceeded", err)
			}
			if rt.requests != tc.wantRequests {
				t.Errorf("Tags sent %d requests, want %d", rt.requests, tc.wantRequests)
			}
		})
	}
}
