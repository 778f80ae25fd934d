package linkheader

import (
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{
			name:   "registry next page",
			values: []string{`</v2/_catalog?last=b&n=1>; rel="next"`},
			want:   []Link{{URL: "/v2/_catalog?last=b&n=1", Params: map[string]string{"rel": "next"}}},
		},
		{
			name:   "absolute url, unquoted rel, no spaces",
			values: []string{`<https://r.example/v2/x/tags/list?n=2&last=v2>;rel=next`},
			want:   []Link{{URL: "https://r.example/v2/x/tags/list?n=2&last=v2", Params: map[string]string{"rel": "next"}}},
		},
		{
			name:   "several links in one value, comma inside url and quotes",
			values: []string{`</a?x=1,2>; rel="prev"; title="a, b", </b>; rel="next"`},
			want: []Link{
				{URL: "/a?x=1,2", Params: map[string]string{"rel": "prev", "title": "a, b"}},
				{URL: "/b", Params: map[string]string{"rel": "next"}},
			},
		},
		{
			name:   "several header values",
			values: []string{`</a>; rel=prev`, `</b>; rel=next`},
			want: []Link{
				{URL: "/a", Params: map[string]string{"rel": "prev"}},
				{URL: "/b", Params: map[string]string{"rel": "next"}},
			},
		},
		{
			name:   "escapes, case, duplicates, bare params and empty elements",
			values: []string{` , </c> ; REL="next \"x\"" ; rel=other; crossorigin;; ,`},
			want:   []Link{{URL: "/c", Params: map[string]string{"rel": `next "x"`, "crossorigin": ""}}},
		},
		{name: "empty", values: []string{""}, want: nil},
		{name: "no values", values: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.values...)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tc.values, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.values, got, tc.want)
			}
			for i := range got {
				if got[i].URL != tc.want[i].URL || !maps.Equal(got[i].Params, tc.want[i].Params) {
					t.Errorf("Parse(%q)[%d] = %+v, want %+v", tc.values, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
	}{
		{"no angle brackets", `/v2/_catalog; rel="next"`},
		{"unterminated url", `</v2/_catalog; rel="next"`},
		{"unterminated quote", `</a>; rel="next`},
		{"unterminated escape", `</a>; rel="next\`},
		{"junk after url", `</a> rel=next`},
		{"missing param name", `</a>; =next`},
		{"missing value", `</a>; rel=`},
		{"junk after param", `</a>; rel=next x`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := Parse(tc.value); !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q) = %+v, %v, want ErrSyntax", tc.value, got, err)
			}
		})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		values  []string
		want    string
		wantErr bool
	}{
		{name: "next among others", values: []string{`</a>; rel="prev", </b>; rel="last next"`}, want: "/b"},
		{name: "case-insensitive", values: []string{`</b>; rel=NEXT`}, want: "/b"},
		{name: "first next wins", values: []string{`</b>; rel=next`, `</c>; rel=next`}, want: "/b"},
		{name: "none", values: []string{`</a>; rel="prev"`}, want: ""},
		{name: "nothing", want: ""},
		{name: "garbage", values: []string{`<`}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Next(tc.values...)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Next(%q) = %q, %v, want %q (error: %v)", tc.values, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// format writes links back as a header value, quoting every parameter.
func format(links []Link) string {
	var parts []string
	for _, l := range links {
		s := "<" + l.URL + ">"
		for k, v := range l.Params {
			s += "; " + k + "=" + strconv.Quote(v)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`</v2/_catalog?last=b&n=1>; rel="next"`,
		`</a?x=1,2>; rel="prev"; title="a, b", </b>; rel=next`,
		`<https://r/x>;rel=next;x;y="\"",,`,
		`<`, `</a>; rel="`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		links, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %v does not match ErrSyntax", s, err)
			}
			return
		}
		// What parses, formatted again, parses to the same links, as long
		// as nothing needs an escape strconv.Quote would write differently.
		for _, l := range links {
			if strings.ContainsAny(l.URL, ">") {
				t.Fatalf("Parse(%q) gave URL %q holding '>'", s, l.URL)
			}
			for _, v := range l.Params {
				if strconv.Quote(v) != `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)+`"` {
					return
				}
			}
		}
		again, err := Parse(format(links))
		if err != nil || len(again) != len(links) {
			t.Fatalf("Parse(format(Parse(%q))) = %+v, %v, want %+v", s, again, err, links)
		}
		for i := range links {
			if again[i].URL != links[i].URL || !maps.Equal(again[i].Params, links[i].Params) {
				t.Fatalf("round trip of %q: %+v, want %+v", s, again[i], links[i])
			}
		}
	})
}
