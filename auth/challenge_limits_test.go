package auth_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/regkit/regkit/auth"
)

// ParseChallenges stays bounded whatever a server sends in the 10 MiB of
// headers Go's client accepts: before the limits, 400 KiB of repeated
// scope parameters allocated 2.6 GiB (each repeat copied the list so far)
// and 10 MiB of challenges 313 MiB (655,360 challenges).
func TestParseChallengesBounded(t *testing.T) {
	cases := []struct {
		name   string
		header []string
		want   int  // challenges returned
		bad    bool // an error is wanted
	}{
		{"400 KiB of repeated scopes", []string{"Bearer realm=a" + strings.Repeat(",scope=a", 400<<10/8)}, 0, true},
		{"10 MiB of challenges in one value", []string{strings.Repeat(`Basic realm="a",`, 10<<20/16)}, 0, true},
		{"65,536 values", strings.Split(strings.Repeat(`Basic realm="a"|`, 1<<20/16), "|"), 64, true},
		{"64 scope parameters", []string{"Bearer realm=a" + strings.Repeat(",scope=a", 63)}, 1, false},
		{"64 challenges", []string{strings.TrimSuffix(strings.Repeat(`Basic realm="a",`, 64), ",")}, 64, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			chs, err := auth.ParseChallenges(tc.header)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("allocated %d MiB, want at most 32", alloc>>20)
			}
			if len(chs) != tc.want || (err != nil) != tc.bad {
				t.Fatalf("%d challenges, error %v; want %d, error %v", len(chs), err, tc.want, tc.bad)
			}
			if err != nil && !strings.Contains(err.Error(), "more than 64") {
				t.Errorf("error %q does not name the limit", err)
			}
			if tc.name == "64 scope parameters" && len(strings.Fields(chs[0].Params["scope"])) != 63 {
				t.Errorf("scope %q, want 63 scopes", chs[0].Params["scope"])
			}
		})
	}
}
