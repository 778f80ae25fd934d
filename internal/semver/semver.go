// Package semver reads tags as semantic versions ("v1.2.3", "1.2",
// "2.0.0-rc.1") and selects them with constraints (">=1.2, <2.0"), for
// the version filter of regkit.Mirror.
package semver

import (
	"cmp"
	"strconv"
	"strings"
)

// Version is a version read by [Parse]: major.minor.patch, with its
// prerelease identifiers. Build metadata is dropped: it does not order.
type Version struct {
	Major, Minor, Patch uint64
	// Pre are the dot-separated prerelease identifiers ("rc", "1" for
	// "-rc.1"); empty for a release.
	Pre []string
}

// Parse reads s as a version: an optional leading "v", one to three
// dot-separated numbers (missing ones are 0: "1.2" is 1.2.0), then an
// optional "-prerelease" of dot-separated identifiers of ASCII letters,
// digits and hyphens, then an optional "+build" of the same. It reports
// false for anything else ("latest", "1.2.3.4", "1..2", "v", "1.2-").
func Parse(s string) (Version, bool) {
	s = strings.TrimPrefix(s, "v")
	if b := strings.IndexByte(s, '+'); b >= 0 {
		if !identifiers(s[b+1:]) {
			return Version{}, false
		}
		s = s[:b]
	}
	var v Version
	if p := strings.IndexByte(s, '-'); p >= 0 {
		pre := s[p+1:]
		if !identifiers(pre) {
			return Version{}, false
		}
		v.Pre = strings.Split(pre, ".")
		s = s[:p]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return Version{}, false
	}
	nums := []*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		if !numeric(p) {
			return Version{}, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, false
		}
		*nums[i] = n
	}
	return v, true
}

// identifiers reports whether s is one or more dot-separated non-empty
// identifiers of ASCII letters, digits and hyphens.
func identifiers(s string) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for _, c := range []byte(id) {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// numeric reports whether s is one or more ASCII digits.
func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Compare returns -1, 0 or +1 as a is lower than, equal to or higher than
// b, by the precedence of semantic versioning: major, minor and patch
// numerically; then a prerelease is lower than its release
// (2.0.0-rc.1 < 2.0.0); prereleases compare identifier by identifier,
// numeric ones numerically and below alphanumeric ones, which compare in
// ASCII order; a shorter list whose identifiers all equal the longer's
// first ones is lower (1.0.0-alpha < 1.0.0-alpha.1).
func Compare(a, b Version) int {
	if c := cmp.Or(cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor), cmp.Compare(a.Patch, b.Patch)); c != 0 {
		return c
	}
	switch {
	case len(a.Pre) == 0 && len(b.Pre) == 0:
		return 0
	case len(a.Pre) == 0:
		return 1
	case len(b.Pre) == 0:
		return -1
	}
	for i := 0; i < len(a.Pre) && i < len(b.Pre); i++ {
		if c := compareIdentifier(a.Pre[i], b.Pre[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Pre), len(b.Pre))
}

// compareIdentifier compares two prerelease identifiers.
func compareIdentifier(a, b string) int {
	an, bn := numeric(a), numeric(b)
	switch {
	case an && bn:
		// Numerically, without overflow: fewer digits (leading zeros
		// aside) is smaller.
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}
