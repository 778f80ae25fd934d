package semver

import (
	"fmt"
	"strings"
)

// Constraint selects versions: alternatives separated by "||", each a
// comma-separated list of comparisons that must all hold. Make one with
// [ParseConstraint].
type Constraint struct {
	any [][]comparison
}

// comparison is one "op version" of a constraint.
type comparison struct {
	op string
	v  Version
}

// ops are the operators of a comparison, longest first so that ">=" is not
// read as ">".
var ops = []string{">=", "<=", "!=", "==", ">", "<", "="}

// ParseConstraint reads s as a constraint: comparisons "op version", where
// op is one of =, ==, !=, >, >=, <, <= (none means =) and version is read
// as [Parse] reads it, joined by "," (all must hold) and "||" (any group
// may hold): ">=1.2, <2.0", "1.4.2 || >=2". Spaces around operators and
// separators are ignored. An empty constraint, an empty comparison or a
// version Parse refuses is an error that says which part is wrong.
func ParseConstraint(s string) (Constraint, error) {
	var c Constraint
	if strings.TrimSpace(s) == "" {
		return c, fmt.Errorf("empty constraint")
	}
	for _, alt := range strings.Split(s, "||") {
		var all []comparison
		for _, part := range strings.Split(alt, ",") {
			cmp, err := parseComparison(strings.TrimSpace(part))
			if err != nil {
				return Constraint{}, err
			}
			all = append(all, cmp)
		}
		c.any = append(c.any, all)
	}
	return c, nil
}

// parseComparison reads one "op version".
func parseComparison(s string) (comparison, error) {
	if s == "" {
		return comparison{}, fmt.Errorf("empty comparison (a stray \",\" or \"||\"?)")
	}
	op := "="
	for _, o := range ops {
		if strings.HasPrefix(s, o) {
			op, s = o, strings.TrimSpace(s[len(o):])
			break
		}
	}
	if op == "==" {
		op = "="
	}
	v, ok := Parse(s)
	if !ok {
		return comparison{}, fmt.Errorf("%q is not a version (want [v]major[.minor[.patch]][-prerelease], after one of = != > >= < <=)", s)
	}
	return comparison{op: op, v: v}, nil
}

// Match reports whether v satisfies c. The zero Constraint matches
// nothing.
func (c Constraint) Match(v Version) bool {
	for _, all := range c.any {
		ok := true
		for _, cmp := range all {
			if !cmp.match(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// match reports whether v satisfies one comparison.
func (c comparison) match(v Version) bool {
	r := Compare(v, c.v)
	switch c.op {
	case "=":
		return r == 0
	case "!=":
		return r != 0
	case ">":
		return r > 0
	case ">=":
		return r >= 0
	case "<":
		return r < 0
	}
	return r <= 0 // "<="
}
