package semver

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Version
		ok   bool
	}{
		{"1.2.3", Version{1, 2, 3, nil}, true},
		{"v1.2.3", Version{1, 2, 3, nil}, true},
		{"1.2", Version{1, 2, 0, nil}, true},
		{"1", Version{1, 0, 0, nil}, true},
		{"v2", Version{2, 0, 0, nil}, true},
		{"2.0.0-rc.1", Version{2, 0, 0, []string{"rc", "1"}}, true},
		{"1.0-alpha-1", Version{1, 0, 0, []string{"alpha-1"}}, true},
		{"1.2.3+build.7", Version{1, 2, 3, nil}, true},
		{"1.2.3-beta+exp.sha.5114f85", Version{1, 2, 3, []string{"beta"}}, true},
		{"010.2.3", Version{10, 2, 3, nil}, true},
		{"latest", Version{}, false},
		{"", Version{}, false},
		{"v", Version{}, false},
		{"vv1", Version{}, false},
		{"1.2.3.4", Version{}, false},
		{"1..2", Version{}, false},
		{"1.2.", Version{}, false},
		{"1.2-", Version{}, false},
		{"1.2-rc..1", Version{}, false},
		{"1.2+", Version{}, false},
		{"1.x", Version{}, false},
		{"-1", Version{}, false},
		{"sha256-abc", Version{}, false},
		{"99999999999999999999.0", Version{}, false}, // overflows uint64
		{"1.2.3_4", Version{}, false},
	} {
		got, ok := Parse(tc.in)
		require.Equal(t, tc.ok, ok, "Parse(%q)", tc.in)
		require.Equal(t, tc.want, got, "Parse(%q)", tc.in)
	}
}

// TestCompare checks the precedence of semantic versioning, with the
// example chain of semver.org §11 among the cases.
func TestCompare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0},
		{"v1.0", "1.0.0", 0},
		{"1.0.0+a", "1.0.0+b", 0},
		{"1.0.0", "2.0.0", -1},
		{"2.0.0", "2.1.0", -1},
		{"2.1.0", "2.1.1", -1},
		{"1.10.0", "1.9.0", 1},
		{"1.0.0-alpha", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0-alpha.beta", "1.0.0-beta", -1},
		{"1.0.0-beta", "1.0.0-beta.2", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-beta.11", "1.0.0-rc.1", -1},
		{"1.0.0-rc.1", "1.0.0", -1},
		{"1.0.0-1", "1.0.0-01", 0},
		{"1.0.0-99999999999999999999999", "1.0.0-100000000000000000000000", -1},
		{"1.0.0-a", "1.0.0-1", 1},
		{"0.9.9", "1.0.0-0", -1},
	} {
		a, ok := Parse(tc.a)
		require.True(t, ok, tc.a)
		b, ok := Parse(tc.b)
		require.True(t, ok, tc.b)
		require.Equal(t, tc.want, Compare(a, b), "Compare(%s, %s)", tc.a, tc.b)
		require.Equal(t, -tc.want, Compare(b, a), "Compare(%s, %s)", tc.b, tc.a)
	}
}

func TestConstraint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		constraint string
		match      []string
		miss       []string
	}{
		{">=1.2, <2.0", []string{"1.2", "1.2.0", "v1.2.1", "1.9.99", "2.0.0-rc.1"}, []string{"1.1.9", "2.0", "2.0.1", "1.2.0-rc.1"}},
		{">=1.2,<2.0.0-0", []string{"1.5"}, []string{"2.0.0-rc.1", "2.0.0"}},
		{"1.4.2", []string{"1.4.2", "v1.4.2"}, []string{"1.4.3", "1.4.2-rc.1"}},
		{"=1.4", []string{"1.4.0"}, []string{"1.4.1"}},
		{"== 1.4", []string{"1.4.0"}, []string{"1.4.1"}},
		{"!=1.4", []string{"1.4.1", "1.3"}, []string{"1.4.0"}},
		{">1", []string{"1.0.1", "2"}, []string{"1", "0.9"}},
		{"<=1", []string{"1", "0.9"}, []string{"1.0.1"}},
		{"< 1 || > 2", []string{"0.9", "2.1"}, []string{"1", "1.5", "2"}},
		{" >= 1.2 , < 1.3 || 3.0.0", []string{"1.2.5", "3"}, []string{"1.3", "2"}},
	} {
		c, err := ParseConstraint(tc.constraint)
		require.NoError(t, err, tc.constraint)
		for _, s := range tc.match {
			v, ok := Parse(s)
			require.True(t, ok, s)
			require.True(t, c.Match(v), "%q matches %s", tc.constraint, s)
		}
		for _, s := range tc.miss {
			v, ok := Parse(s)
			require.True(t, ok, s)
			require.False(t, c.Match(v), "%q does not match %s", tc.constraint, s)
		}
	}
}

func TestParseConstraintErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
	}{
		{"", "empty constraint"},
		{"   ", "empty constraint"},
		{">=1.2,", "empty comparison"},
		{"|| 1", "empty comparison"},
		{">=", `"" is not a version`},
		{">=latest", `"latest" is not a version`},
		{"~1.2", `"~1.2" is not a version`},
		{"^1.2", `"^1.2" is not a version`},
		{">=1.2 <2", `"1.2 <2" is not a version`},
		{">>1", `">1" is not a version`},
		{"1.2.3.4", `"1.2.3.4" is not a version`},
	} {
		_, err := ParseConstraint(tc.in)
		require.ErrorContains(t, err, tc.want, "ParseConstraint(%q)", tc.in)
	}
	require.False(t, Constraint{}.Match(Version{}), "the zero Constraint matches nothing")
}
