package auth_test

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/regkit/regkit/auth"
)

// challengeParams builds a parameter map from name, value pairs.
func challengeParams(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParseChallenges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  []string
		want    []auth.Challenge
		wantErr bool
	}{
		{
			name:   "docker hub",
			header: []string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.docker.io/token", "service", "registry.docker.io", "scope", "repository:library/alpine:pull")}},
		},
		{
			name:   "docker hub push, comma inside quotes",
			header: []string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.docker.io/token", "service", "registry.docker.io", "scope", "repository:samalba/my-app:pull,push")}},
		},
		{
			name:   "ghcr",
			header: []string{`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://ghcr.io/token", "service", "ghcr.io", "scope", "repository:user/image:pull")}},
		},
		{
			name:   "ecr basic",
			header: []string{`Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"`},
			want:   []auth.Challenge{{Scheme: "basic", Params: challengeParams("realm", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/", "service", "ecr.amazonaws.com")}},
		},
		{
			name:   "ecr public, opaque scope",
			header: []string{`Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://public.ecr.aws/token/", "service", "public.ecr.aws", "scope", "aws")}},
		},
		{
			name:   "quay",
			header: []string{`Bearer realm="https://quay.io/v2/auth",service="quay.io",scope="repository:coreos/etcd:pull"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://quay.io/v2/auth", "service", "quay.io", "scope", "repository:coreos/etcd:pull")}},
		},
		{
			name:   "harbor",
			header: []string{`Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:library/nginx:pull"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://harbor.example.com/service/token", "service", "harbor-registry", "scope", "repository:library/nginx:pull")}},
		},
		{
			name:   "gitlab",
			header: []string{`Bearer realm="https://gitlab.com/jwt/auth",service="container_registry",scope="repository:group/project:pull"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://gitlab.com/jwt/auth", "service", "container_registry", "scope", "repository:group/project:pull")}},
		},
		{
			name:   "distribution htpasswd",
			header: []string{`Basic realm="Registry Realm"`},
			want:   []auth.Challenge{{Scheme: "basic", Params: challengeParams("realm", "Registry Realm")}},
		},
		{
			name:   "insufficient scope with several scopes",
			header: []string{`Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull repository:b:pull,push",error="insufficient_scope"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.example/token", "service", "reg", "scope", "repository:a:pull repository:b:pull,push", "error", "insufficient_scope")}},
		},
		{
			name:   "invalid token with description",
			header: []string{`Bearer realm="https://auth.example/token", error="invalid_token", error_description="The access token expired"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.example/token", "error", "invalid_token", "error_description", "The access token expired")}},
		},
		{
			name:   "catalog scope",
			header: []string{`Bearer realm="https://auth.example/token",service="reg",scope="registry:catalog:*"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.example/token", "service", "reg", "scope", "registry:catalog:*")}},
		},
		{
			name:   "several schemes in one value",
			header: []string{`Basic realm="legacy", Bearer realm="https://auth.example/token",service="reg"`},
			want: []auth.Challenge{
				{Scheme: "basic", Params: challengeParams("realm", "legacy")},
				{Scheme: "bearer", Params: challengeParams("realm", "https://auth.example/token", "service", "reg")},
			},
		},
		{
			name:   "several values",
			header: []string{`Negotiate`, `Basic realm="x"`},
			want:   []auth.Challenge{{Scheme: "negotiate", Params: challengeParams()}, {Scheme: "basic", Params: challengeParams("realm", "x")}},
		},
		{
			name:   "unquoted values",
			header: []string{`Bearer realm=https://auth.example/token,service=registry.example,scope=repository:a:pull`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://auth.example/token", "service", "registry.example", "scope", "repository:a:pull")}},
		},
		{
			name:   "whitespace around equals and commas",
			header: []string{"Bearer realm = \"https://a/token\" ,\tservice = reg , "},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://a/token", "service", "reg")}},
		},
		{
			name:   "escaped quotes and backslashes",
			header: []string{`Basic realm="say \"hi\" \\ bye"`},
			want:   []auth.Challenge{{Scheme: "basic", Params: challengeParams("realm", `say "hi" \ bye`)}},
		},
		{
			name:   "case of scheme and names",
			header: []string{`BEARER Realm="https://a/token",SERVICE="Reg"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "https://a/token", "service", "Reg")}},
		},
		{
			name:   "scheme alone",
			header: []string{`Basic`},
			want:   []auth.Challenge{{Scheme: "basic", Params: challengeParams()}},
		},
		{
			name:   "token68 then another challenge",
			header: []string{`Negotiate YIIBnQYGKwYBBQUC==, Basic realm="x"`},
			want:   []auth.Challenge{{Scheme: "negotiate", Params: challengeParams("", "YIIBnQYGKwYBBQUC==")}, {Scheme: "basic", Params: challengeParams("realm", "x")}},
		},
		{
			name:   "token68 with one pad",
			header: []string{`Negotiate abc=`},
			want:   []auth.Challenge{{Scheme: "negotiate", Params: challengeParams("", "abc=")}},
		},
		{
			name:   "repeated scope parameters join",
			header: []string{`Bearer realm="r",scope="repository:a:pull",scope="repository:b:pull"`},
			want:   []auth.Challenge{{Scheme: "bearer", Params: challengeParams("realm", "r", "scope", "repository:a:pull repository:b:pull")}},
		},
		{name: "repeated other parameter", header: []string{`Bearer realm="r1",realm="r2"`}, wantErr: true},
		{
			name:   "empty quoted value and empty list elements",
			header: []string{`, ,Basic realm="",,`},
			want:   []auth.Challenge{{Scheme: "basic", Params: challengeParams("realm", "")}},
		},
		{name: "no values", header: nil, want: nil},
		{name: "empty value", header: []string{""}, want: nil},
		{name: "unterminated quote", header: []string{`Bearer realm="https://a/token`}, wantErr: true},
		{name: "escape at the end", header: []string{`Bearer realm="abc\`}, wantErr: true},
		{name: "quoted scheme", header: []string{`"Bearer" realm="x"`}, wantErr: true},
		{name: "parameter without scheme", header: []string{`=x`}, wantErr: true},
		{name: "junk after a value", header: []string{`Bearer realm="x" junk`}, wantErr: true},
		{name: "no space after scheme", header: []string{`Bearer"realm"`}, wantErr: true},
		{name: "quote inside unquoted value", header: []string{`Bearer realm=ab"c`}, wantErr: true},
		{name: "bad token68", header: []string{`Negotiate @@@`}, wantErr: true},
		{name: "junk after token68", header: []string{`Negotiate abc== def`}, wantErr: true},
		{name: "missing last value", header: []string{`Bearer realm="a",service=`}, wantErr: true},
		{name: "control character", header: []string{"Bearer realm=a\x01b"}, wantErr: true},
		{
			name:    "bad value next to a good one",
			header:  []string{`Bearer realm="x`, `Basic realm="ok"`},
			want:    []auth.Challenge{{Scheme: "basic", Params: challengeParams("realm", "ok")}},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParseChallenges(tc.header)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseChallenges(%q) error = %v, want error %v", tc.header, err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseChallenges(%q) = %#v, want %#v", tc.header, got, tc.want)
			}
		})
	}
}

// formatChallenges writes challenges back in canonical form.
func formatChallenges(cs []auth.Challenge) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Scheme)
		keys := slices.Sorted(maps.Keys(c.Params))
		first := true
		for _, k := range keys {
			if k == "" {
				b.WriteString(" " + c.Params[k])
				continue
			}
			if first {
				b.WriteString(" ")
				first = false
			} else {
				b.WriteString(",")
			}
			b.WriteString(k + "=" + rtQuote(c.Params[k]))
		}
	}
	return b.String()
}

func rtQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
		`Basic realm="x", Bearer realm=https://a/t,service=reg`,
		`Negotiate YIIB==, Basic realm="say \"hi\""`,
		`Bearer realm="unterminated`,
		`,,, =`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := auth.ParseChallenges([]string{s})
		if err != nil {
			if !strings.Contains(err.Error(), "www-authenticate") {
				t.Errorf("ParseChallenges(%q) error %q does not say what failed", s, err)
			}
			return
		}
		for _, c := range got {
			if c.Scheme == "" || c.Scheme != strings.ToLower(c.Scheme) || c.Params == nil {
				t.Fatalf("ParseChallenges(%q) = bad challenge %#v", s, c)
			}
			for k := range c.Params {
				if k != strings.ToLower(k) {
					t.Fatalf("ParseChallenges(%q): parameter name %q not lower case", s, k)
				}
			}
		}
		// What parsed reads back the same once written canonically
		// (token68 values and several "scope" aside, which do not round
		// trip through a map).
		if strings.Contains(s, "scope") || hasToken68(got) {
			return
		}
		again, err := auth.ParseChallenges([]string{formatChallenges(got)})
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("ParseChallenges(%q) = %#v; written as %q it parses as %#v, %v", s, got, formatChallenges(got), again, err)
		}
	})
}

func hasToken68(cs []auth.Challenge) bool {
	for _, c := range cs {
		if _, ok := c.Params[""]; ok {
			return true
		}
	}
	return false
}

func TestParseChallengesErrorNamesOffset(t *testing.T) {
	t.Parallel()
	_, err := auth.ParseChallenges([]string{`Bearer realm="x" junk`})
	if err == nil || !strings.Contains(err.Error(), "offset "+strconv.Itoa(len(`Bearer realm="x" `))) {
		t.Errorf("ParseChallenges error = %v, want one naming offset 17", err)
	}
}
