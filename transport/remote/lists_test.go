package remote

import (
	"errors"
	"fmt"
	"github.com/regkit/regkit/transport"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestListTags(t *testing.T) {
	t.Parallel()
	all := []string{"v1", "v2", "v3", "v4", "v5"}
	tests := []struct {
		name     string
		req      transport.PageRequest
		link     func(host string) string // Link header of the first page
		wantQ    string
		want     []string
		wantNext string // with HOST for the server's host
		wantErr  string
	}{
		{name: "defaults", want: all},
		// A full page without a Link may have more after it.
		{name: "n and last", req: transport.PageRequest{N: 2, Last: "v1"}, wantQ: "last=v1&n=2", want: []string{"v2", "v3"},
			wantNext: "http://HOST/v2/a/b/tags/list?last=v3&n=2"},
		{name: "relative next", req: transport.PageRequest{N: 2}, wantQ: "n=2",
			link: func(string) string { return `</v2/a/b/tags/list?n=2&last=v2>; rel="next"` },
			want: []string{"v1", "v2"}, wantNext: "http://HOST/v2/a/b/tags/list?n=2&last=v2"},
		{name: "absolute next", req: transport.PageRequest{N: 2}, wantQ: "n=2",
			link: func(h string) string { return `<http://` + h + `/v2/a/b/tags/list?n=2&last=v2>; rel="next"` },
			want: []string{"v1", "v2"}, wantNext: "http://HOST/v2/a/b/tags/list?n=2&last=v2"},
		{name: "other links only", req: transport.PageRequest{N: 2}, wantQ: "n=2",
			link: func(string) string { return `</v2/a/b/tags/list?n=2>; rel="prev"` }, want: []string{"v1", "v2"},
			wantNext: "http://HOST/v2/a/b/tags/list?last=v2&n=2"},
		{name: "next on another host", req: transport.PageRequest{N: 2}, wantQ: "n=2",
			link:    func(string) string { return `<http://evil.example/v2/a/b/tags/list?n=2&last=v2>; rel="next"` },
			wantErr: "leaves the registry"},
		{name: "next with another scheme", req: transport.PageRequest{N: 2}, wantQ: "n=2",
			link:    func(h string) string { return `<https://` + h + `/v2/a/b/tags/list?last=v2>; rel="next"` },
			wantErr: "leaves the registry"},
		{name: "garbage link", req: transport.PageRequest{N: 2}, wantQ: "n=2",
			link: func(string) string { return `</v2/a/b/tags/list?n=2; rel="next"` }, wantErr: "malformed link header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			host := c.base.Host
			mux.HandleFunc("GET /v2/a/b/tags/list", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.RawQuery != tc.wantQ {
					t.Errorf("query = %q, want %q", r.URL.RawQuery, tc.wantQ)
				}
				if tc.link != nil {
					w.Header().Set("Link", tc.link(host))
				}
				items := all
				if tc.req.N > 0 {
					start := 0
					if tc.req.Last != "" {
						start = slices.Index(all, tc.req.Last) + 1
					}
					items = all[start : start+tc.req.N]
				}
				fmt.Fprintf(w, `{"name":"a/b","tags":["%s"]}`, strings.Join(items, `","`))
			})
			p, err := c.ListTags(t.Context(), "a/b", tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ListTags = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ListTags = %v", err)
			}
			if !slices.Equal(p.Items, tc.want) || p.Next != strings.ReplaceAll(tc.wantNext, "HOST", host) {
				t.Errorf("ListTags = %+v, want %v next %q", p, tc.want, tc.wantNext)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		catalog bool
		status  int
		body    string
		wantErr error
	}{
		{name: "unknown repository", status: 404, body: `{"errors":[{"code":"NAME_UNKNOWN"}]}`, wantErr: transport.ErrNameUnknown},
		{name: "unknown repository without body", status: 404, wantErr: transport.ErrNameUnknown},
		{name: "catalog not offered", catalog: true, status: 404, wantErr: transport.ErrUnsupported},
		{name: "catalog unsupported", catalog: true, status: 401, body: `{"errors":[{"code":"UNSUPPORTED"}]}`, wantErr: transport.ErrUnsupported},
		{name: "catalog unauthorized", catalog: true, status: 401, body: `{"errors":[{"code":"UNAUTHORIZED"}]}`, wantErr: transport.ErrUnauthorized},
		{name: "not json", status: 200, body: `nope`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			var err error
			if tc.catalog {
				_, err = c.ListRepositories(t.Context(), transport.PageRequest{})
			} else {
				_, err = c.ListTags(t.Context(), "x", transport.PageRequest{})
			}
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestListRepositories(t *testing.T) {
	t.Parallel()
	mux, c := newMux(t)
	mux.HandleFunc("GET /v2/_catalog", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "last=a&n=2" {
			t.Errorf("query = %q", r.URL.RawQuery)
		}
		w.Header().Set("Link", `</v2/_catalog?last=c&n=2>; rel="next"`)
		io.WriteString(w, `{"repositories":["b","c"]}`)
	})
	p, err := c.ListRepositories(t.Context(), transport.PageRequest{N: 2, Last: "a"})
	if err != nil || !slices.Equal(p.Items, []string{"b", "c"}) || p.Next != "http://"+c.base.Host+"/v2/_catalog?last=c&n=2" {
		t.Errorf("ListRepositories = %+v, %v", p, err)
	}
}

// endless is an endless reader of spaces.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestListTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	for _, cl := range []int64{limit + 1, -1} {
		var read atomic.Int64
		rt := rtFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Request: r, ContentLength: cl, Header: http.Header{},
				Body: countingBody{io.LimitReader(endless{}, 2*limit), &read}}, nil
		})
		c, _ := New("r.example", WithRoundTripper(rt))
		c.maxList = limit
		var le *transport.LimitError
		if _, err := c.ListTags(t.Context(), "x", transport.PageRequest{}); !errors.As(err, &le) || le.Unit != "bytes" || le.Limit != limit {
			t.Errorf("ListTags(Content-Length %d) = %v, want a *LimitError of %d bytes", cl, err, limit)
		}
		if read.Load() > limit+1+4<<10 {
			t.Errorf("read %d bytes", read.Load())
		}
	}
}

func TestListUnpagedRegistry(t *testing.T) {
	t.Parallel()
	// Like the distribution registry before version 3: every tag, in no
	// order, whatever n and last say.
	mux, c := newMux(t)
	var calls atomic.Int32
	shuffled := []string{"v04", "v01", "v05", "v00", "v03", "v02", "v06"}
	mux.HandleFunc("GET /v2/x/tags/list", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fmt.Fprintf(w, `{"name":"x","tags":["%s"]}`, strings.Join(shuffled, `","`))
	})
	var got []string
	var pages int
	for req := (transport.PageRequest{N: 3, Last: "v00"}); ; pages++ {
		p, err := c.ListTags(t.Context(), "x", req)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Items...)
		if p.Next == "" {
			break
		}
		req = transport.PageRequest{Next: p.Next}
	}
	// The second page is full: a third request finds nothing after v06.
	want := []string{"v01", "v02", "v03", "v04", "v05", "v06"}
	if !slices.Equal(got, want) || calls.Load() != 3 {
		t.Errorf("paged %v in %d requests, want %v in 3", got, calls.Load(), want)
	}
	// Without n, the one page is sorted.
	p, err := c.ListTags(t.Context(), "x", transport.PageRequest{})
	if err != nil || !slices.IsSorted(p.Items) || len(p.Items) != len(shuffled) || p.Next != "" {
		t.Errorf("ListTags() = %+v, %v", p, err)
	}
	// A last past the end gives an empty page.
	if p, err := c.ListTags(t.Context(), "x", transport.PageRequest{Last: "v99"}); err != nil || len(p.Items) != 0 {
		t.Errorf("ListTags(last v99) = %+v, %v", p, err)
	}
}
