package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1), as a registry sends it with a 401 response:
//
//	Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
type Challenge struct {
	// Scheme is the authentication scheme in lower case: "basic",
	// "bearer", or whatever else the server named.
	Scheme string
	// Params holds the challenge's parameters by lower-case name
	// ("realm", "service", "scope", "error" …), unquoted. Several "scope"
	// parameters are joined with spaces, the form of a scope list; any
	// other parameter given twice must have the same value both times. A
	// token68 value (as in "Negotiate YIIB…") is kept under the empty
	// name. Params is never nil.
	Params map[string]string
}

// errChallenge is the error of every malformed WWW-Authenticate value.
var errChallenge = errors.New("malformed www-authenticate header")

// maxChallenges and maxChallengeParams bound what ParseChallenges reads:
// challenges in all, and parameters in one challenge.
const (
	maxChallenges      = 64
	maxChallengeParams = 64
)

// ParseChallenges parses every WWW-Authenticate value of a response (pass
// resp.Header.Values("WWW-Authenticate")). A value may hold several
// challenges separated by commas, and parameter values may be tokens or
// quoted strings (with backslash escapes and commas inside the quotes).
// Scheme and parameter names are case-insensitive. Unquoted values may be
// URLs, as some registries send them; empty list elements (stray or
// trailing commas) are skipped.
//
// Anything that could be read two ways makes its value malformed rather
// than being guessed at: an unterminated quoted string, a parameter (other
// than "scope") repeated with a different value, a missing comma between
// parameters or challenges, a control character or quote in an unquoted
// value.
//
// A malformed value makes ParseChallenges return an error naming the first
// one, together with the challenges of every well-formed value, so that a
// caller can still use what it understood. It never panics, whatever the
// input. No values give no challenges and a nil error.
//
// Registries send one or two challenges of a few parameters, and parsing
// stays bounded whatever a server sends: a challenge with more than 64
// parameters (a repeated scope counting each time) makes its value
// malformed, and so does a value past the 64th challenge, at which
// ParseChallenges stops.
func ParseChallenges(header []string) ([]Challenge, error) {
	var all []Challenge
	var first error
	for _, v := range header {
		if len(all) == maxChallenges {
			if first == nil {
				first = fmt.Errorf("%w: more than %d challenges", errChallenge, maxChallenges)
			}
			break
		}
		cs, err := parseChallengeValue(v, maxChallenges-len(all))
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		all = append(all, cs...)
	}
	return all, first
}

// chParser reads one header value.
type chParser struct {
	s   string
	pos int
}

func (p *chParser) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errChallenge, what, p.pos)
}

func (p *chParser) eof() bool { return p.pos >= len(p.s) }

func (p *chParser) peek() byte { return p.s[p.pos] }

// skipSpace skips spaces and tabs, and reports whether there were any.
func (p *chParser) skipSpace() bool {
	start := p.pos
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.pos++
	}
	return p.pos > start
}

// skipSeparators skips whitespace and commas (list elements may be empty).
func (p *chParser) skipSeparators() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.pos++
	}
}

// token reads an RFC 9110 token, possibly empty.
func (p *chParser) token() string {
	start := p.pos
	for !p.eof() && isTokenChar(p.peek()) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// atParam reports whether the input at the current position starts an
// auth-param: a token, optional whitespace, "=" and a value (not "==",
// which ends a token68).
func (p *chParser) atParam() bool {
	q := chParser{s: p.s, pos: p.pos}
	if q.token() == "" {
		return false
	}
	q.skipSpace()
	if q.eof() || q.peek() != '=' {
		return false
	}
	q.pos++
	q.skipSpace()
	// "x=" at the end or before a comma is a token68 with padding: a
	// parameter needs a value.
	return !q.eof() && q.peek() != '=' && q.peek() != ','
}

// parseChallengeValue parses one WWW-Authenticate value.
func parseChallengeValue(s string, room int) ([]Challenge, error) {
	p := &chParser{s: s}
	var out []Challenge
	for {
		p.skipSeparators()
		if p.eof() {
			return out, nil
		}
		if len(out) == room {
			return nil, p.fail(fmt.Sprintf("more than %d challenges", maxChallenges))
		}
		scheme := p.token()
		if scheme == "" {
			return nil, p.fail("expected an auth scheme")
		}
		c := Challenge{Scheme: strings.ToLower(scheme), Params: map[string]string{}}
		spaced := p.skipSpace()
		switch {
		case p.eof() || p.peek() == ',':
			// A scheme without parameters.
		case !spaced:
			return nil, p.fail("unexpected character after the auth scheme")
		case p.atParam():
			if err := p.params(c.Params); err != nil {
				return nil, err
			}
		default:
			if err := p.token68(c.Params); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
}

// params reads the auth-params of one challenge, up to the end of the value
// or the comma before the next challenge.
func (p *chParser) params(into map[string]string) error {
	var scopes []string // joined at the end: appending each would be quadratic
	defer func() {
		if len(scopes) > 0 {
			into["scope"] = strings.Join(scopes, " ")
		}
	}()
	for n := 1; ; n++ {
		if n > maxChallengeParams {
			return p.fail(fmt.Sprintf("more than %d parameters", maxChallengeParams))
		}
		name := strings.ToLower(p.token())
		p.skipSpace()
		p.pos++ // the "=", which atParam saw
		p.skipSpace()
		value, err := p.value()
		if err != nil {
			return err
		}
		switch old, seen := into[name]; {
		case name == "scope":
			scopes = append(scopes, value)
		case !seen:
			into[name] = value
		case old != value:
			// Clients disagree on which one counts; a second realm or
			// service must not silently win or lose.
			return p.fail("parameter " + strconv.Quote(name) + " repeated with a different value")
		}
		p.skipSpace()
		if p.eof() {
			return nil
		}
		if p.peek() != ',' {
			return p.fail("expected a comma after a parameter")
		}
		p.skipSeparators()
		if !p.atParam() {
			return nil // the next challenge, or the end
		}
	}
}

// value reads a parameter value: a quoted string, or anything up to the
// next comma or whitespace (registries send URLs unquoted, which are not
// RFC tokens).
func (p *chParser) value() (string, error) {
	if p.eof() {
		return "", p.fail("missing parameter value")
	}
	if p.peek() == '"' {
		return p.quoted()
	}
	start := p.pos
	for !p.eof() {
		c := p.peek()
		if c == ',' || c == ' ' || c == '\t' {
			break
		}
		if c == '"' || c < 0x20 || c == 0x7f {
			return "", p.fail("bad character in an unquoted parameter value")
		}
		p.pos++
	}
	if p.pos == start {
		return "", p.fail("missing parameter value")
	}
	return p.s[start:p.pos], nil
}

// quoted reads a quoted-string, undoing backslash escapes.
func (p *chParser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				return "", p.fail("unterminated quoted string")
			}
			b.WriteByte(p.peek())
			p.pos++
		default:
			b.WriteByte(c)
		}
	}
	return "", p.fail("unterminated quoted string")
}

// token68 reads the token68 form of credentials ("Negotiate YIIB…=").
func (p *chParser) token68(into map[string]string) error {
	start := p.pos
	for !p.eof() && isToken68Char(p.peek()) {
		p.pos++
	}
	if p.pos == start { // padding alone is no token68
		return p.fail("unexpected character after the auth scheme")
	}
	for !p.eof() && p.peek() == '=' {
		p.pos++
	}
	into[""] = p.s[start:p.pos]
	p.skipSpace()
	if !p.eof() && p.peek() != ',' {
		return p.fail("expected a comma after a token68")
	}
	return nil
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68Char reports whether c may appear in a token68 before its
// padding.
func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
