package remote

import (
	"encoding/json"
	"slices"
	"testing"
)

// plainStringsCases are JSON arrays plainStrings decodes itself, and
// arrays it leaves to encoding/json.
var plainStringsCases = []string{
	`[]`, ` [ ] `, `["v1"]`, `["a","b","c"]`, " [ \"a\" ,\n\t\"b\" ]\r\n", `["1.0","latest","a_b-c.d","X"]`,
	`null`, `[null]`, `[1]`, `["a",1]`, `[{}]`, `[[]]`, `["a\"b"]`, `["a\\b"]`, `["\u00e9"]`, `["é"]`,
	"[\"\xff\"]", `["a\/b"]`, `["<&>"]`, `[""]`, `["",""]`,
}

// TestPlainStringsIsUnmarshal checks plainStrings against json.Unmarshal:
// what it decodes, it decodes as json.Unmarshal does.
func TestPlainStringsIsUnmarshal(t *testing.T) {
	t.Parallel()
	decoded := 0
	for _, raw := range plainStringsCases {
		if checkPlainStrings(t, raw) {
			decoded++
		}
	}
	if decoded < 8 {
		t.Errorf("plainStrings decoded %d of the cases, want the 8 plain ones at least", decoded)
	}
}

func checkPlainStrings(t *testing.T, raw string) bool {
	t.Helper()
	var want []string
	if json.Unmarshal([]byte(raw), &want) != nil {
		return false // plainStrings is only given what encoding/json checked
	}
	got, ok := plainStrings([]byte(raw), len(want))
	if ok && (!slices.Equal(got, want) || got == nil) {
		t.Errorf("plainStrings(%s) = %q, json.Unmarshal gives %q", raw, got, want)
	}
	return ok
}

func FuzzPlainStrings(f *testing.F) {
	for _, raw := range plainStringsCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			return
		}
		n := countEntries([]byte(raw), 1<<30)
		var want []string
		wantErr := json.Unmarshal([]byte(raw), &want)
		got, ok := plainStrings([]byte(raw), n)
		if ok && (wantErr != nil || !slices.Equal(got, want) || got == nil) {
			t.Errorf("plainStrings(%q) = %q; json.Unmarshal gives %q, %v", raw, got, want, wantErr)
		}
	})
}
