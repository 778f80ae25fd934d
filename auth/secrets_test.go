package auth

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// secretsPW is a password whose encodings all differ from it: JSON escapes
// its quote, backslash and HTML characters, URL escaping its spaces, slash
// and plus.
const secretsPW = `s3"cr<e>t&\/+ é?`

// secretsTok is a token value that servers hand out.
const secretsTok = "tok-s3cret-value"

// secretsForms returns every encoding of the secrets of c (and of the
// extra secrets) that must show nowhere: raw, JSON-escaped (with and
// without HTML escaping), Go-quoted, URL-escaped, base64 (of the secret and
// of user:password) and hex (what %x of a string gives).
func secretsForms(c Credential, extra ...string) map[string]string {
	forms := map[string]string{}
	secrets := append([]string{c.Password, c.IdentityToken, c.RegistryToken}, extra...)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		j, _ := json.Marshal(s)
		forms["raw "+s] = s
		forms["json "+s] = string(j[1 : len(j)-1])
		forms["json-nohtml "+s] = jsonInner(s, false)
		q := strconv.Quote(s)
		forms["quoted "+s] = q[1 : len(q)-1]
		forms["query-escaped "+s] = url.QueryEscape(s)
		forms["path-escaped "+s] = url.PathEscape(s)
		forms["base64 "+s] = base64.StdEncoding.EncodeToString([]byte(s))
		forms["hex "+s] = hex.EncodeToString([]byte(s))
		forms["HEX "+s] = strings.ToUpper(hex.EncodeToString([]byte(s)))
	}
	if c.Password != "" {
		forms["basic"] = base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
	}
	return forms
}

// secretsVerbs are the verbs a value may be printed with.
var secretsVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %[1]v"}

// secretsCheck fails when any verb prints v with any form.
func secretsCheck(t *testing.T, what string, v any, forms map[string]string) {
	t.Helper()
	for _, verb := range secretsVerbs {
		got := fmt.Sprintf(verb, v)
		for name, f := range forms {
			if strings.Contains(got, f) {
				t.Errorf("%s printed with %s shows the secret (%s): %s", what, verb, name, got)
			}
		}
	}
	if err, ok := v.(error); ok {
		for name, f := range forms {
			if strings.Contains(err.Error(), f) {
				t.Errorf("%s.Error() shows the secret (%s): %s", what, name, err)
			}
		}
	}
}

// TestNoSecretInAnyValue is finding 8 of issue 13: every value of package
// auth that holds or met a secret, printed with every verb, shows it in no
// encoding.
func TestNoSecretInAnyValue(t *testing.T) {
	pw := Credential{Username: "alice", Password: secretsPW}
	all := Credential{Username: "alice", Password: secretsPW, IdentityToken: "id-" + secretsPW, RegistryToken: "reg-" + secretsTok}

	t.Run("Credential", func(t *testing.T) {
		secretsCheck(t, "Credential", all, secretsForms(all))
		secretsCheck(t, "*Credential", &all, secretsForms(all))
		secretsCheck(t, "struct holding a Credential", struct{ C Credential }{all}, secretsForms(all))
		secretsCheck(t, "Static", Static("reg.example", all), secretsForms(all))
		secretsCheck(t, "Chain", Chain(Static("reg.example", all)), secretsForms(all))
	})

	t.Run("RoundTripper after Basic", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, p, _ := r.BasicAuth(); p != secretsPW {
				w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		tr := NewRoundTripper(host, Static(host, pw), nil)
		secretsGet(t, tr, srv.URL+"/v2/")
		if tr.basic == "" {
			t.Fatal("the RoundTripper learned no Basic credential: the test tests nothing")
		}
		secretsCheck(t, "*RoundTripper", tr, secretsForms(pw))
	})

	t.Run("RoundTripper after Bearer", func(t *testing.T) {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/token":
				_, _ = fmt.Fprintf(w, `{"token":%q}`, secretsTok)
			case r.Header.Get("Authorization") != "Bearer "+secretsTok:
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token"`)
				w.WriteHeader(http.StatusUnauthorized)
			}
		}))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		tr := NewRoundTripper(host, Static(host, pw), nil)
		secretsGet(t, tr, srv.URL+"/v2/app/manifests/latest")
		secretsCheck(t, "*RoundTripper", tr, secretsForms(pw, secretsTok))
	})

	t.Run("token error echoing the credential", func(t *testing.T) {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				_ = r.ParseForm()
				h := r.Header.Get("Authorization")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = fmt.Fprintf(w, `{"details":"bad %s %q %s"}`, h, r.Form.Get("password"), r.URL.RawQuery)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="s"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		tr := NewRoundTripper(host, Static(host, pw), nil)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v2/app/manifests/latest", nil)
		_, err := tr.RoundTrip(req)
		if err == nil {
			t.Fatal("RoundTrip succeeded, want the token service's refusal")
		}
		secretsCheck(t, "RoundTripper error", err, secretsForms(pw))
	})

	t.Run("Login errors echoing the credential", func(t *testing.T) {
		for _, c := range []Credential{pw, {Username: "alice", IdentityToken: "id-" + secretsPW}} {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				echo := r.Header.Get("Authorization") + " " + r.Form.Get("refresh_token") + " " +
					url.QueryEscape(r.Form.Get("refresh_token")) + " " + jsonInner(r.Form.Get("refresh_token"), true)
				if u, p, ok := r.BasicAuth(); ok {
					echo += " " + u + ":" + p + " " + url.QueryEscape(p) + " " + jsonInner(p, true)
				}
				msg, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": "refused " + echo})
				if r.URL.Path == "/token" {
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write(msg)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="s"`)
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write(msg)
			}))
			err := Login(t.Context(), strings.TrimPrefix(srv.URL, "http://"), c, nil)
			srv.Close()
			if err == nil {
				t.Fatal("Login succeeded, want a refusal")
			}
			secretsCheck(t, "Login error", err, secretsForms(c))
		}
	})

	t.Run("HelperError", func(t *testing.T) {
		dir := helperTestInstall(t, "leaky", secretsHelper)
		// get: the helper prints its answer and exits non-zero, and its
		// standard error shows the secret in every encoding.
		answer, _ := json.Marshal(map[string]string{"ServerURL": "reg.example", "Username": "alice", "Secret": secretsPW})
		var stderr strings.Builder
		for _, f := range secretsForms(pw) {
			stderr.WriteString(f + "\n")
		}
		stderr.Write(answer)
		secretsWrite(t, dir, "answer", string(answer))
		secretsWrite(t, dir, "stderr", stderr.String())
		_, err := Helper("leaky").Credential(t.Context(), "reg.example")
		if err == nil {
			t.Fatal("Credential succeeded, want a *HelperError")
		}
		secretsCheck(t, "HelperError of get", err, secretsForms(pw))
		// store: the helper echoes what it was given.
		for _, c := range []Credential{pw, {Username: "alice", IdentityToken: "id-" + secretsPW}} {
			err = Helper("leaky").Save(t.Context(), "reg.example", c)
			if err == nil || !strings.Contains(err.Error(), "cannot store") {
				t.Fatalf("Save = %v, want a *HelperError showing the helper's message", err)
			}
			secretsCheck(t, "HelperError of store", err, secretsForms(c))
		}
	})
}

// secretsHelper is a credential helper that shows the secret: get prints
// $dir/answer on standard output and $dir/stderr on standard error and
// fails; store echoes its input (JSON, so the secret JSON-escaped) and
// fails.
const secretsHelper = `#!/bin/sh
dir=$(dirname "$0")
in=$(cat)
case "$1" in
get) cat "$dir/answer"; cat "$dir/stderr" >&2; exit 1 ;;
store) printf 'cannot store %s\n' "$in" >&2; exit 5 ;;
esac
exit 9
`

func secretsWrite(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func secretsGet(t *testing.T, rt http.RoundTripper, u string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200", u, resp.StatusCode)
	}
}
