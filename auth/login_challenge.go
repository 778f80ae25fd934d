package auth

import "strings"

// loginChallenge is one challenge of a WWW-Authenticate header.
type loginChallenge struct {
	scheme string            // lower case
	params map[string]string // names in lower case
}

// loginParseChallenges parses WWW-Authenticate values (RFC 7235 section
// 4.1): challenges separated by commas, each a scheme followed by
// name=value parameters, values being tokens or quoted strings. It is
// lenient: unquoted values may hold any character but commas and spaces
// (realms are often sent unquoted), and it stops at what it cannot read.
func loginParseChallenges(values []string) []loginChallenge {
	var out []loginChallenge
	for _, v := range values {
		p := loginParser{s: v}
		for {
			p.skip(" \t,")
			scheme := p.token()
			if scheme == "" {
				break
			}
			ch := loginChallenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
			for {
				p.skip(" \t")
				save := p.i
				name := p.token()
				p.skip(" \t")
				if name == "" || !p.consume('=') {
					p.i = save // the next challenge, or a token68
					break
				}
				p.skip(" \t")
				ch.params[strings.ToLower(name)] = p.value()
				p.skip(" \t")
				if !p.consume(',') {
					break
				}
			}
			out = append(out, ch)
		}
	}
	return out
}

// loginParser reads a WWW-Authenticate value.
type loginParser struct {
	s string
	i int
}

func (p *loginParser) skip(chars string) {
	for p.i < len(p.s) && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *loginParser) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// token reads an RFC 7230 token.
func (p *loginParser) token() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a quoted string (unescaping it) or an unquoted value.
func (p *loginParser) value() string {
	if !p.consume('"') {
		start := p.i
		for p.i < len(p.s) && strings.IndexByte(", \t", p.s[p.i]) < 0 {
			p.i++
		}
		return p.s[start:p.i]
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
