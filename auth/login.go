package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/transport"
)

// loginMaxBody bounds what is read of a response body.
const loginMaxBody = 64 << 10

// loginTimeout bounds each request of Login, from sending it to the end
// of its answer (at most loginMaxBody bytes); tests shorten it.
var loginTimeout = tokenTimeout

// loginClientID is the client_id of OAuth2 refresh-token requests.
const loginClientID = "regkit"

// Login checks that the registry at host accepts c, as docker login does,
// and stores nothing. It sends GET /v2/ and, when the registry answers 401,
// answers its challenge with c:
//
//   - Basic: the request again with c's username and password;
//   - Bearer: a token from the challenge's realm (with its service and
//     scope) fetched with c, then the request again with the token. c's
//     RegistryToken, if set, is sent as the token itself; else an
//     IdentityToken is traded with an OAuth2 refresh_token grant (POST);
//     else the username and password go to the realm with Basic
//     authentication; a zero c asks for an anonymous token.
//
// It returns nil when the registry accepts the request (also when it asks
// for no credentials at all), an error matching [transport.ErrUnauthorized]
// when the credential is rejected (401, or a refresh token the token
// service refuses), and one matching [transport.ErrDenied] on 403. Errors
// never show a secret.
//
// host is as for [github.com/regkit/regkit/transport/remote.New] ("ghcr.io", "localhost:5000"; Docker
// Hub is reached at registry-1.docker.io): loopback hosts are spoken to over
// plain HTTP, others over HTTPS. A host written as "http://host:port" forces
// plain HTTP.
//
// Login sends the credential where the client of
// [github.com/regkit/regkit/registry.New] would, and
// nowhere else: every request stays on the origin (scheme, host and port)
// it was sent to, the registry's or its token realm's, so a redirect to
// another host or port, or from HTTPS to plain HTTP, is refused; a token
// realm must be HTTPS, unless the registry is plain HTTP itself and the
// realm is on its host, or both are on loopback. Such a refusal is an
// [*transport.OriginError]. rt sends the requests; nil means [http.DefaultTransport].
// Each request must be answered in full within a minute.
func Login(ctx context.Context, host string, c Credential, rt http.RoundTripper) error {
	base, err := loginBase(host)
	if err != nil {
		return err
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	l := &loginer{host: host, base: base, c: c, hc: &http.Client{Transport: rt, CheckRedirect: loginRedirect}}
	if err := l.run(ctx); err != nil {
		return fmt.Errorf("auth: login %s: %w", host, err)
	}
	return nil
}

// loginer is one Login.
type loginer struct {
	host string
	base *url.URL // the API root, /v2/
	c    Credential
	hc   *http.Client
}

func (l *loginer) run(ctx context.Context) error {
	resp, err := l.get(ctx, l.base, nil)
	if err != nil {
		return err
	}
	if resp.status != http.StatusUnauthorized {
		return resp.check()
	}
	// The challenges of every well-formed value are used, as RoundTripper
	// does; a malformed one is named only when nothing else is usable.
	chs, perr := ParseChallenges(resp.header.Values("WWW-Authenticate"))
	var basic, bearer *Challenge
	for i := range chs {
		switch {
		case chs[i].Scheme == "bearer" && bearer == nil:
			bearer = &chs[i]
		case chs[i].Scheme == "basic" && basic == nil:
			basic = &chs[i]
		}
	}
	h := http.Header{}
	switch {
	case bearer != nil:
		tok := l.c.RegistryToken
		if tok == "" {
			if tok, err = l.token(ctx, bearer); err != nil {
				return err
			}
			// The token is a secret too: a registry that quotes it in its
			// refusal must not put it in the error.
			l.c.RegistryToken = tok
		}
		h.Set("Authorization", "Bearer "+tok)
	case basic != nil:
		if l.c.Username == "" {
			return transport.Errorf(transport.CodeUnauthorized, "%s asks for a username and password (Basic), and the credential has none", l.host)
		}
		h.Set("Authorization", loginBasic(l.c))
	case perr != nil:
		return &transport.Error{Code: transport.CodeUnauthorized, Message: fmt.Sprintf("GET %s answered 401 with no usable Basic or Bearer challenge", l.base), Err: perr}
	default:
		return transport.Errorf(transport.CodeUnauthorized, "GET %s answered 401 with no Basic or Bearer challenge", l.base)
	}
	resp, err = l.get(ctx, l.base, h)
	if err != nil {
		return err
	}
	return resp.check()
}

// token fetches a bearer token from the challenge's realm with the
// credential.
func (l *loginer) token(ctx context.Context, ch *Challenge) (string, error) {
	realm, err := origin.Realm(l.base, ch.Params["realm"])
	if err != nil {
		return "", err
	}
	service, scope := ch.Params["service"], ch.Params["scope"]
	var resp *loginResponse
	if l.c.IdentityToken != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {l.c.IdentityToken}, "client_id": {loginClientID}}
		if service != "" {
			form.Set("service", service)
		}
		if scope != "" {
			form.Set("scope", scope)
		}
		resp, err = l.do(ctx, http.MethodPost, realm, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, form.Encode())
	} else {
		u := *realm
		q := u.Query()
		if service != "" {
			q.Set("service", service)
		}
		if scope != "" {
			q.Set("scope", scope)
		}
		h := http.Header{}
		if l.c.Username != "" {
			q.Set("account", l.c.Username)
			h.Set("Authorization", loginBasic(l.c))
		}
		u.RawQuery = q.Encode()
		resp, err = l.get(ctx, &u, h)
	}
	if err != nil {
		return "", err
	}
	if resp.status == http.StatusBadRequest && resp.oauthError == "invalid_grant" {
		resp.status = http.StatusUnauthorized
	}
	if err := resp.check(); err != nil {
		return "", err
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(resp.body, &tok) != nil || (tok.Token == "" && tok.AccessToken == "") {
		return "", fmt.Errorf("%s %s: answer holds no token", resp.method, resp.url)
	}
	if tok.Token != "" {
		return tok.Token, nil
	}
	return tok.AccessToken, nil
}

// loginResponse is what Login keeps of a response.
type loginResponse struct {
	method, url string // redacted
	status      int
	header      http.Header
	body        []byte
	// message is the registry's or token service's explanation, if any.
	message string
	// oauthError is the "error" of an OAuth2 error answer.
	oauthError string
}

// check returns nil for a 2xx answer, else an error with the code the
// status implies.
func (r *loginResponse) check() error {
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s %s answered %d %s", r.method, r.url, r.status, http.StatusText(r.status))
	if r.message != "" {
		msg += ": " + r.message
	}
	switch r.status {
	case http.StatusUnauthorized:
		return transport.Errorf(transport.CodeUnauthorized, "%s", msg)
	case http.StatusForbidden:
		return transport.Errorf(transport.CodeDenied, "%s", msg)
	case http.StatusTooManyRequests:
		return transport.Errorf(transport.CodeTooManyRequests, "%s", msg)
	}
	return errors.New(msg)
}

func (l *loginer) get(ctx context.Context, u *url.URL, h http.Header) (*loginResponse, error) {
	return l.do(ctx, http.MethodGet, u, h, "")
}

// loginRedirect is the redirect policy of Login's requests, each of which
// carries the credential or asks for a challenge to answer with it: at most
// [origin.MaxRedirects], and all on the origin of the first request (the
// registry's, or its token realm's), as the client's own requests
// ([origin.Send]).
func loginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= origin.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", origin.MaxRedirects)
	}
	return origin.Send(via[0].URL, req.URL)
}

// do sends a request and reads at most loginMaxBody of the answer.
func (l *loginer) do(ctx context.Context, method string, u *url.URL, h http.Header, body string) (*loginResponse, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, loginTimeout, errTokenTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, origin.Redact(u), err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "regkit")
	resp, err := l.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if context.Cause(ctx) == errTokenTimeout {
			err = errTokenTimeout
		}
		return nil, fmt.Errorf("%s %s: %w", method, origin.Redact(u), err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, loginMaxBody))
	if err != nil {
		if context.Cause(ctx) == errTokenTimeout {
			err = errTokenTimeout
		}
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, origin.Redact(u), err)
	}
	r := &loginResponse{method: method, url: origin.Redact(u), status: resp.StatusCode, header: resp.Header, body: data}
	var wire struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
		Details          string `json:"details"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if resp.StatusCode >= 300 && json.Unmarshal(data, &wire) == nil {
		switch {
		case len(wire.Errors) > 0:
			r.message = wire.Errors[0].Message
		case wire.Details != "":
			r.message = wire.Details
		case wire.ErrorDescription != "":
			r.message = wire.ErrorDescription
		default:
			r.message = wire.Error
		}
		r.oauthError = wire.Error
	}
	r.message = redactSecrets(r.message, l.c.secretForms())
	if len(r.message) > 200 {
		r.message = strings.ToValidUTF8(r.message[:200], "") + "…"
	}
	return r, nil
}

// loginBase returns the /v2/ URL of host.
func loginBase(host string) (*url.URL, error) {
	h, scheme := host, ""
	if s, rest, ok := strings.Cut(host, "://"); ok {
		scheme, h = strings.ToLower(s), rest
		if scheme != "http" && scheme != "https" {
			return nil, fmt.Errorf("auth: login %s: scheme %q is not http or https", host, s)
		}
	}
	if h == "" || strings.ContainsAny(h, "/?#@ ") {
		return nil, fmt.Errorf("auth: login %q: not a registry host (as in \"ghcr.io\" or \"localhost:5000\")", host)
	}
	if scheme == "" {
		scheme = "https"
		if origin.IsLoopback(h) {
			scheme = "http"
		}
	}
	if credHost(h) == credDockerHub {
		h = "registry-1.docker.io"
	}
	u, err := url.Parse(scheme + "://" + h + "/v2/")
	if err != nil || u.Host != h {
		return nil, fmt.Errorf("auth: login %q: not a registry host (as in \"ghcr.io\" or \"localhost:5000\")", host)
	}
	return u, nil
}

// loginBasic returns the Authorization value of c's username and password.
func loginBasic(c Credential) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Password))
}
