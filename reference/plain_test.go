package reference

import (
	"strings"
	"testing"

	distref "github.com/distribution/reference"
)

// plainCases are repository paths near the edges of the grammar.
var plainCases = []string{
	"a", "app", "library/ubuntu", "a/b/c", "a.b", "a_b", "a__b", "a___b", "a-b", "a--b", "a.-b", "a._b",
	"a..b", ".a", "a.", "_a", "a_", "-a", "a-", "a/", "/a", "a//b", "A", "aB", "a b", "a:b", "ä",
	"0", "9/z", "a/.b", "a/_", "localhost/a", "localhost:5000/a", "a.b-c__d/e---f",
	strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("a/", 127) + "a", strings.Repeat("a/", 128) + "a",
}

// TestPlainRepositoryAgrees checks the hand-written check against
// distribution/reference: it may refuse a valid name (the regexp is asked
// then), but never accept an invalid one, and on these cases it refuses
// none that is valid.
func TestPlainRepositoryAgrees(t *testing.T) {
	t.Parallel()
	for _, name := range plainCases {
		checkPlain(t, name, true)
	}
}

func checkPlain(t *testing.T, name string, exact bool) {
	t.Helper()
	_, err := distref.WithName(probeHost + "/" + name)
	valid := err == nil && name != ""
	got := plainRepository(name)
	if got && !valid {
		t.Errorf("plainRepository(%q) = true, but distribution/reference refuses it: %v", name, err)
	}
	if exact && valid && !got {
		t.Errorf("plainRepository(%q) = false, but distribution/reference accepts it", name)
	}
}

func FuzzPlainRepository(f *testing.F) {
	for _, s := range plainCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) { checkPlain(t, name, true) })
}

// TestValidateRepositoryAllocates checks that a valid name is checked with
// no allocation: every request a registry serves, and every request the
// client sends, checks one.
func TestValidateRepositoryAllocates(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = ValidateRepository("library/app-1_x.y") }); n != 0 {
		t.Errorf("ValidateRepository of a valid name allocates %v times, want 0", n)
	}
}
