package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// redacted replaces a secret in text an error shows.
const redacted = "***"

// secretForms returns the texts in which c's secrets may show up in what a
// peer (a registry, a token service, a credential helper) sends back: each
// secret (password, identity token, registry token) raw, JSON-escaped
// (with and without HTML escaping), Go-quoted, URL-escaped (query and path),
// hex (either case) and base64-encoded (standard and URL alphabets, padded
// or not), and the
// base64 of "username:password" of a Basic Authorization header. The
// longest come first, so that replacing them in order leaves no part of a
// longer form behind.
func (c Credential) secretForms() []string {
	var raw []string
	for _, s := range []string{c.Password, c.IdentityToken, c.RegistryToken} {
		if s != "" {
			raw = append(raw, s)
		}
	}
	if len(raw) == 0 {
		return nil
	}
	var forms []string
	add := func(s string) {
		if s != "" && !slices.Contains(forms, s) {
			forms = append(forms, s)
		}
	}
	b64 := func(s string) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(s)))
		}
	}
	for _, s := range raw {
		add(s)
		add(jsonInner(s, true))
		add(jsonInner(s, false))
		q := strconv.Quote(s)
		add(q[1 : len(q)-1])
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		add(hex.EncodeToString([]byte(s)))
		add(strings.ToUpper(hex.EncodeToString([]byte(s))))
		b64(s)
	}
	if c.Password != "" {
		b64(c.Username + ":" + c.Password)
	}
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return forms
}

// jsonInner returns s as a JSON string, without its quotes.
func jsonInner(s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if enc.Encode(s) != nil {
		return ""
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	return out[1 : len(out)-1]
}

// redactSecrets returns s with every one of forms (see
// [Credential.secretForms]) replaced by "***".
func redactSecrets(s string, forms []string) string {
	for _, f := range forms {
		if f == "" {
			continue
		}
		s = strings.ReplaceAll(s, f, redacted)
	}
	return s
}

// maxRedactedBody is how much of an error response's body is searched for
// the credential the request carried; clients read less of an error body.
const maxRedactedBody = 128 << 10

// authSecrets returns the forms (see [Credential.secretForms]) of the
// secret an Authorization value carries: a bearer token, or the password
// of a Basic credential.
func authSecrets(authorization string) []string {
	scheme, v, _ := strings.Cut(authorization, " ")
	var c Credential
	switch strings.ToLower(scheme) {
	case "bearer":
		c.RegistryToken = v
	case "basic":
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil
		}
		c.Username, c.Password, _ = strings.Cut(string(b), ":")
	}
	return c.secretForms()
}

// redactBody replaces, in the first [maxRedactedBody] bytes of an error
// response's body, every form of the credential the request carried, so
// that a registry quoting the Authorization header in its refusal does not
// put the secret into the error the caller gets (and logs).
func redactBody(resp *http.Response, forms []string) {
	if len(forms) == 0 || resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	resp.Body = &redactedBody{body: resp.Body, forms: forms}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
}

// redactedBody is a response body with its start redacted. The start is
// read at the first Read, not in RoundTrip, so that whatever bounds the
// caller puts on reading the body (a deadline, the client's check that a
// body makes progress) bound that read too.
type redactedBody struct {
	body  io.ReadCloser
	forms []string
	r     io.Reader // the redacted start, then the rest; nil until read
}

func (b *redactedBody) Read(p []byte) (int, error) {
	if b.r == nil {
		head, err := io.ReadAll(io.LimitReader(b.body, maxRedactedBody))
		clean := bytes.NewReader([]byte(redactSecrets(string(head), b.forms)))
		rest := io.Reader(b.body)
		if err != nil {
			rest = errReader{err}
		}
		b.r = io.MultiReader(clean, rest)
	}
	return b.r.Read(p)
}

func (b *redactedBody) Close() error { return b.body.Close() }

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
