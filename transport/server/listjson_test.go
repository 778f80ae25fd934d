package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestListJSONIsMarshal checks the hand-written bodies of tags and catalog
// pages against json.Marshal, byte for byte, with plain strings and with
// strings that need escaping (which take json.Marshal's way).
func TestListJSONIsMarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		items []string
	}{
		{"app", []string{}},
		{"app", []string{"v1"}},
		{"library/app", []string{"1.0", "latest", "a_b-c.d", "X"}},
		{"app", []string{`quo"te`, `back\\slash`}},
		{"app", []string{"<b>", "a&b", "tab\there", "\x7f", "é", "\u2028", "\xff"}},
		{`na"me`, []string{"v1"}},
		{"", []string{"v1"}},
	}
	for _, tc := range tests {
		got, err := tagsJSON(tc.name, tc.items)
		want, _ := json.Marshal(struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}{tc.name, tc.items})
		if err != nil || string(got) != string(want) {
			t.Errorf("tagsJSON(%q, %q) = %s, %v; json.Marshal writes %s", tc.name, tc.items, got, err, want)
		}
		got, err = catalogJSON(tc.items)
		want, _ = json.Marshal(struct {
			Repositories []string `json:"repositories"`
		}{tc.items})
		if err != nil || string(got) != string(want) {
			t.Errorf("catalogJSON(%q) = %s, %v; json.Marshal writes %s", tc.items, got, err, want)
		}
	}
}

// TestSetLinkIsValuesEncode checks the Link that setLink writes against
// the query url.Values encodes, keys sorted and values escaped.
func TestSetLinkIsValuesEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, next, lastKey, artifactType string
	}{
		{n: "100", next: "t0099", lastKey: "t0099"},
		{next: "t0099", lastKey: "t0099"},
		{n: "10", next: "opaque cursor&x=1", lastKey: "other"},
		{n: "10", next: "sha256:abc", lastKey: "sha256:abc", artifactType: "application/vnd.x+json; y=1"},
		{next: "c", lastKey: "d", artifactType: "a/b"},
	}
	for _, tc := range tests {
		hdr := http.Header{}
		setLink(hdr, "/v2/app/tags/list", pageParams{n: tc.n}, tc.next, tc.lastKey, tc.artifactType)
		v := url.Values{}
		if tc.artifactType != "" {
			v.Set("artifactType", tc.artifactType)
		}
		if tc.n != "" {
			v.Set("n", tc.n)
		}
		if tc.next == tc.lastKey {
			v.Set("last", tc.next)
		} else {
			v.Set("next", tc.next)
		}
		want := "</v2/app/tags/list?" + v.Encode() + `>; rel="next"`
		if got := hdr.Get("Link"); got != want {
			t.Errorf("setLink(%+v) = %q, want %q", tc, got, want)
		}
	}
	hdr := http.Header{}
	if setLink(hdr, "/x", pageParams{empty: true}, "a", "a", ""); hdr.Get("Link") != "" {
		t.Error("setLink of an n=0 page set a Link")
	}
}
