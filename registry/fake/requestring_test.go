package fake

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/regkit/regkit/internal/regtest"
)

func TestRequestLogCapacity(t *testing.T) {
	t.Parallel()
	paths := func(rs []Request) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Path)
		}
		return out
	}
	tests := []struct {
		name string
		opts []ServerOption
		sent int
		want []string
	}{
		{name: "under the capacity", opts: []ServerOption{WithRequestLog(3)}, sent: 2, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list"}},
		{name: "at the capacity", opts: []ServerOption{WithRequestLog(3)}, sent: 3, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list", "/v2/r2/tags/list"}},
		{name: "beyond the capacity", opts: []ServerOption{WithRequestLog(3)}, sent: 7, want: []string{"/v2/r4/tags/list", "/v2/r5/tags/list", "/v2/r6/tags/list"}},
		{name: "capacity one", opts: []ServerOption{WithRequestLog(1)}, sent: 4, want: []string{"/v2/r3/tags/list"}},
		{name: "off", opts: []ServerOption{WithRequestLog(0)}, sent: 4},
		{name: "negative is off", opts: []ServerOption{WithRequestLog(-1)}, sent: 4},
		{name: "default", sent: 2, want: []string{"/v2/r0/tags/list", "/v2/r1/tags/list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Serve(t, tc.opts...)
			for i := range tc.sent {
				regtest.Send(t, http.MethodGet, fmt.Sprintf("%s/v2/r%d/tags/list", srv.URL, i), nil)
			}
			if got := paths(srv.Requests()); !slices.Equal(got, tc.want) {
				t.Errorf("Requests() = %q, want %q", got, tc.want)
			}
			srv.ResetRequests()
			regtest.Send(t, http.MethodGet, srv.URL+"/v2/after/tags/list", nil)
			want := []string{"/v2/after/tags/list"}
			if tc.want == nil {
				want = nil
			}
			if got := paths(srv.Requests()); !slices.Equal(got, want) {
				t.Errorf("after ResetRequests: Requests() = %q, want %q", got, want)
			}
		})
	}
}

func TestRequestLogDefaultBound(t *testing.T) {
	t.Parallel()
	srv := Serve(t)
	if srv.log.size != defaultRequestLog {
		t.Fatalf("request log size %d, want %d", srv.log.size, defaultRequestLog)
	}
	l := requestLog{size: defaultRequestLog}
	for i := range 3 * defaultRequestLog {
		l.add(Request{Status: i})
	}
	got := l.all()
	if len(got) != defaultRequestLog || got[0].Status != 2*defaultRequestLog || got[len(got)-1].Status != 3*defaultRequestLog-1 {
		t.Fatalf("after %d requests the log holds %d, from %d to %d; want the last %d", 3*defaultRequestLog, len(got), got[0].Status, got[len(got)-1].Status, defaultRequestLog)
	}
}
