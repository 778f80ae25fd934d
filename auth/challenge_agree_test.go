package auth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/regkit/regkit/auth"
)

// TestParseChallengesDecided holds every input on which Login's former
// lenient parser and ParseChallenges read a challenge differently, with the
// reading both now share. Where the old Login parser read something, it is
// noted as "login read"; errs is the start of the expected error's detail
// ("" for no error).
func TestParseChallengesDecided(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		want   []auth.Challenge
		errs   string
	}{
		// login read the last realm, ParseChallenges the first: which
		// token service gets the credential must not depend on the caller.
		{name: "realm repeated", header: `Bearer realm="https://a/token", realm="https://b/token"`, errs: `parameter "realm" repeated`},
		{name: "realm repeated in other case", header: `Bearer realm="a", REALM=c`, errs: `parameter "realm" repeated`},
		{name: "service repeated", header: `Bearer realm="r",service="s1",service="s2"`, errs: `parameter "service" repeated`},
		{name: "same value repeated", header: `Bearer realm="r",Realm=r`, want: []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "r")}}},
		// login kept the last scope; a scope list needs them all.
		{name: "scope repeated joins", header: `Bearer realm="a", scope=x, scope=y`, want: []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "a", "scope", "x y")}}},
		// login read a truncated value as if it were whole.
		{name: "unterminated quote", header: `Basic realm="open`, errs: "unterminated quoted string"},
		{name: "escape at the end", header: `Basic realm="abc\`, errs: "unterminated quoted string"},
		// login read token68 as a parameter, or as a second scheme.
		{name: "token68 with padding", header: `Negotiate abc==`, want: []auth.Challenge{{Scheme: "negotiate", Params: challengeParams("", "abc==")}}},
		{name: "token68 without padding", header: `Negotiate abc`, want: []auth.Challenge{{Scheme: "negotiate", Params: challengeParams("", "abc")}}},
		{name: "token68 one pad then challenge", header: `Custom abc=, Other x==`,
			want: []auth.Challenge{{Scheme: "custom", Params: challengeParams("", "abc=")}, {Scheme: "other", Params: challengeParams("", "x==")}}},
		{name: "name and equals alone is token68", header: `Bearer realm=`, want: []auth.Challenge{{Scheme: "bearer", Params: challengeParams("", "realm=")}}},
		// login stopped at what it could not read and kept the rest.
		{name: "junk after a value", header: `Basic realm="x" junk`, errs: "expected a comma after a parameter"},
		{name: "missing comma between challenges", header: `Bearer realm="r" Basic realm="x"`, errs: "expected a comma after a parameter"},
		{name: "semicolon separator", header: `Bearer realm="https://a",service="s";x`, errs: "expected a comma after a parameter"},
		{name: "unquoted value with a space", header: `Basic realm=Registry Realm`, errs: "expected a comma after a parameter"},
		{name: "no space after the scheme", header: `Bearer"realm"`, errs: "unexpected character after the auth scheme"},
		{name: "semicolon after the scheme", header: `Basic;realm=x`, errs: "unexpected character after the auth scheme"},
		{name: "bad token68", header: `Negotiate @@@`, errs: "unexpected character after the auth scheme"},
		{name: "junk after token68", header: `Negotiate abc== def`, errs: "expected a comma after a token68"},
		{name: "NUL in a name", header: "Bearer re\x00alm=\"x\"\r\n", errs: "expected a comma after a token68"},
		{name: "quoted scheme", header: `"x" Basic realm="y"`, errs: "expected an auth scheme"},
		// login read an empty value.
		{name: "missing last value", header: `Bearer realm="a",service=`, errs: "unexpected character after the auth scheme"},
		{name: "missing first value", header: `Bearer realm=,service=x`, errs: "unexpected character after the auth scheme"},
		// login dropped the control character, or kept the quote.
		{name: "control character in a value", header: "Bearer realm=a\x01b", errs: "bad character in an unquoted parameter value"},
		{name: "quote in an unquoted value", header: `Bearer realm=ab"c`, errs: "bad character in an unquoted parameter value"},
		// ParseChallenges itself took padding alone for a token68.
		{name: "padding alone", header: `Negotiate ==`, errs: "unexpected character after the auth scheme"},
		{name: "equals after the scheme", header: `Bearer =x`, errs: "unexpected character after the auth scheme"},

		// The cases of Login's former parser test that both read alike.
		{name: "login: bearer", header: `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`,
			want: []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.docker.io/token", "service", "registry.docker.io")}}},
		{name: "login: scope with commas and spaces", header: `Bearer realm="r", scope="repository:a/b:pull,push" , error="insufficient_scope"`,
			want: []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "r", "scope", "repository:a/b:pull,push", "error", "insufficient_scope")}}},
		{name: "login: unquoted values and case", header: `BEARER Realm=https://a.example/token, Service=reg`,
			want: []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://a.example/token", "service", "reg")}}},
		{name: "login: empty elements", header: " , ", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParseChallenges([]string{tc.header})
			switch {
			case tc.errs == "" && err != nil:
				t.Fatalf("ParseChallenges(%q) error = %v, want none", tc.header, err)
			case tc.errs != "" && (err == nil || !strings.Contains(err.Error(), "malformed www-authenticate header: "+tc.errs)):
				t.Fatalf("ParseChallenges(%q) error = %v, want one saying %q", tc.header, err, tc.errs)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseChallenges(%q) = %#v, want %#v", tc.header, got, tc.want)
			}
		})
	}
}
