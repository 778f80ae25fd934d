// Package linkheader parses HTTP Link headers (RFC 8288), which registries
// send to say where the next page of a list is:
//
//	Link: </v2/_catalog?last=myapp9&n=10>; rel="next"
package linkheader

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is matched by every error Parse returns.
var ErrSyntax = errors.New("malformed link header")

// Link is one link of a Link header.
type Link struct {
	// URL is the link target as written between '<' and '>': it may be
	// relative, and is not resolved.
	URL string
	// Params holds the link's parameters by lower-case name, with quoted
	// values unquoted. A parameter given twice keeps its first value, as
	// RFC 8288 says for rel. A parameter without a value maps to "".
	Params map[string]string
}

// HasRel reports whether the link's rel parameter lists relation rel. A rel
// may list several relations separated by spaces; relation names compare
// case-insensitively.
func (l Link) HasRel(rel string) bool {
	for _, r := range strings.Fields(l.Params["rel"]) {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// Parse parses the values of one or more Link headers. Each value may hold
// several comma-separated links. Empty list elements are skipped. Input it
// cannot parse gives an error matching [ErrSyntax], never a panic.
func Parse(values ...string) ([]Link, error) {
	var links []Link
	for _, v := range values {
		p := parser{s: v}
		for {
			p.skipSpaceAndCommas()
			if p.done() {
				break
			}
			l, err := p.link()
			if err != nil {
				return nil, fmt.Errorf("%w: %v in %q", ErrSyntax, err, v)
			}
			links = append(links, l)
		}
	}
	return links, nil
}

// Next returns the target of the first link whose rel is "next", or "" when
// there is none.
func Next(values ...string) (string, error) {
	links, err := Parse(values...)
	if err != nil {
		return "", err
	}
	for _, l := range links {
		if l.HasRel("next") {
			return l.URL, nil
		}
	}
	return "", nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) done() bool { return p.pos >= len(p.s) }

func (p *parser) peek() byte { return p.s[p.pos] }

func (p *parser) skipSpace() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.pos++
	}
}

func (p *parser) skipSpaceAndCommas() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.pos++
	}
}

// link parses `<url> *( ";" param )` up to the next top-level comma or the
// end.
func (p *parser) link() (Link, error) {
	if p.peek() != '<' {
		return Link{}, fmt.Errorf("want '<' at offset %d", p.pos)
	}
	end := strings.IndexByte(p.s[p.pos:], '>')
	if end < 0 {
		return Link{}, errors.New("unterminated '<'")
	}
	l := Link{URL: p.s[p.pos+1 : p.pos+end], Params: map[string]string{}}
	p.pos += end + 1
	for {
		p.skipSpace()
		if p.done() || p.peek() == ',' {
			return l, nil
		}
		if p.peek() != ';' {
			return Link{}, fmt.Errorf("want ';' or ',' at offset %d", p.pos)
		}
		p.pos++
		p.skipSpace()
		if p.done() || p.peek() == ',' || p.peek() == ';' {
			continue // an empty parameter: tolerated
		}
		name, value, err := p.param()
		if err != nil {
			return Link{}, err
		}
		if _, dup := l.Params[name]; !dup {
			l.Params[name] = value
		}
	}
}

// param parses `token [ "=" ( token / quoted-string ) ]`.
func (p *parser) param() (name, value string, err error) {
	name = p.token()
	if name == "" {
		return "", "", fmt.Errorf("want a parameter name at offset %d", p.pos)
	}
	name = strings.ToLower(name)
	p.skipSpace()
	if p.done() || p.peek() != '=' {
		return name, "", nil
	}
	p.pos++
	p.skipSpace()
	if !p.done() && p.peek() == '"' {
		value, err = p.quoted()
		return name, value, err
	}
	value = p.token()
	if value == "" {
		return "", "", fmt.Errorf("want a value for %q at offset %d", name, p.pos)
	}
	return name, value, nil
}

func (p *parser) token() string {
	start := p.pos
	for !p.done() && isTokenChar(p.peek()) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// quoted parses a quoted-string, with backslash escapes.
func (p *parser) quoted() (string, error) {
	start := p.pos
	p.pos++ // the opening quote
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.done() {
				return "", fmt.Errorf("unterminated escape at offset %d", p.pos)
			}
			b.WriteByte(p.peek())
			p.pos++
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated quoted string at offset %d", start)
}

// isTokenChar reports whether c is a tchar of RFC 9110.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
