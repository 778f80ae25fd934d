package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/transport"
)

// tokenRedirect is the redirect policy of token requests, which carry a
// credential in a header or a form: at most maxTokenRedirects, all on the
// realm's origin ([origin.Send]). A refusal wraps an [*transport.OriginError].
func tokenRedirect(realm *url.URL, next *http.Request, via []*http.Request) error {
	if len(via) > maxTokenRedirects {
		return fmt.Errorf("stopped after %d redirects", maxTokenRedirects)
	}
	return origin.Send(realm, next.URL)
}

// The token protocol's defaults and regkit's limits on it.
const (
	// clientID names regkit to token servers (the OAuth2 client_id).
	clientID = "regkit"
	// defaultTokenLifetime is how long a token lives when the server does
	// not say (the spec's default for expires_in).
	defaultTokenLifetime = 60 * time.Second
	// maxTokenLifetime caps the life a server may give a token.
	maxTokenLifetime = 24 * time.Hour
	// maxRefreshMargin is the most a token is dropped before it expires;
	// short-lived tokens are dropped a fifth of their life early.
	maxRefreshMargin = 30 * time.Second
	// maxTokenResponse is the most of a token server's answer read.
	maxTokenResponse = 64 << 10
	// maxTokenRedirects is how many redirects a token request follows,
	// all on the realm's origin.
	maxTokenRedirects = 3
	// tokenTimeout bounds a token request, from sending it to the end of
	// its answer (at most maxTokenResponse bytes): token servers answer
	// in milliseconds, and one that stalls must not hold every request
	// waiting for its token.
	tokenTimeout = time.Minute
	// maxChallengeScopes and maxChallengeScopeBytes bound the scope list
	// a Bearer challenge may ask a token for: registries name one or two
	// repositories, and each token the RoundTripper caches keeps its scopes.
	maxChallengeScopes     = 64
	maxChallengeScopeBytes = 16 << 10
)

// errTokenTimeout is the error of a token request that took longer than
// tokenTimeout.
var errTokenTimeout = fmt.Errorf("no answer within %v", tokenTimeout)

// bearerChallenge is what a Bearer challenge says about where tokens come
// from.
type bearerChallenge struct {
	realm   *url.URL
	service string
}

// tokenError is a token server's refusal.
type tokenError struct {
	status int
	realm  string // redacted
	err    error  // a transport sentinel's kind, for errors.Is, or nil
}

func (e *tokenError) Error() string {
	return fmt.Sprintf("auth: token request to %s: %d %s", e.realm, e.status, strings.ToLower(http.StatusText(e.status)))
}

func (e *tokenError) Unwrap() error { return e.err }

// checkRealm parses a challenge's realm and refuses one that would expose
// credentials, by the rules of [origin.Realm] (reg is the URL of the
// challenged request): it must be https, or plain http only when the
// registry is plain http itself and the realm is on its host, or both are
// on loopback. A refusal is an [*transport.OriginError].
func checkRealm(realm string, reg *url.URL) (*url.URL, error) {
	u, err := origin.Realm(reg, realm)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return u, nil
}

// fetchToken gets a new token for need from the challenge's realm, with
// the host's credential: one request, as docker makes it. A password goes
// with GET and Basic auth (token.md; the OAuth2 POST is optional on token
// servers, and many refuse it). An identity token goes with the OAuth2
// POST (oauth.md), the only flow that takes it; a realm that answers it 404
// or 405 has no OAuth2 endpoint: a credential with a password too is then
// sent with GET, and, the realm remembered, with GET alone from then on.
func (t *RoundTripper) fetchToken(ctx context.Context, need *scopeSet, ch *bearerChallenge) (*token, error) {
	cred, err := t.credential(ctx)
	if err != nil {
		return nil, err
	}
	realm := ch.realm.String()
	switch {
	case cred.RegistryToken != "":
		return &token{value: cred.RegistryToken, scopes: need, any: true}, nil
	case cred.IdentityToken != "" && !t.noOAuth(realm):
		tok, err := t.postToken(ctx, need, ch, url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {cred.IdentityToken},
		})
		var te *tokenError
		if err == nil || cred.Password == "" || !errors.As(err, &te) || !oauthMissing(te.status) {
			return tok, err
		}
		t.mu.Lock()
		t.noPost[realm] = true
		t.mu.Unlock()
	case cred.Username == "" && cred.Password == "":
		return t.getToken(ctx, need, ch, nil)
	}
	return t.getToken(ctx, need, ch, &cred)
}

// oauthMissing reports whether a status to an OAuth2 POST means the realm
// has no such endpoint (GCR answers 404, others 405), rather than a refused
// grant.
func oauthMissing(status int) bool {
	return status == http.StatusNotFound || status == http.StatusMethodNotAllowed
}

// noOAuth reports whether realm answered an OAuth2 POST 404 or 405 before.
func (t *RoundTripper) noOAuth(realm string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.noPost[realm]
}

// getToken asks for a token with GET (token.md), authenticating with
// Basic auth when cred is not nil.
func (t *RoundTripper) getToken(ctx context.Context, need *scopeSet, ch *bearerChallenge, cred *Credential) (*token, error) {
	u := *ch.realm
	q := u.Query()
	if ch.service != "" {
		q.Set("service", ch.service)
	}
	for _, s := range need.strings() {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("auth: token request to %s: %w", origin.RedactString(ch.realm.String()), err)
	}
	if cred != nil {
		req.SetBasicAuth(cred.Username, cred.Password)
	}
	return t.exchange(req, need, ch)
}

// postToken asks for a token with an OAuth2 POST (oauth.md); form holds
// the grant.
func (t *RoundTripper) postToken(ctx context.Context, need *scopeSet, ch *bearerChallenge, form url.Values) (*token, error) {
	form.Set("client_id", clientID)
	if ch.service != "" {
		form.Set("service", ch.service)
	}
	if s := need.strings(); len(s) > 0 {
		form.Set("scope", strings.Join(s, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.realm.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("auth: token request to %s: %w", origin.RedactString(ch.realm.String()), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return t.exchange(req, need, ch)
}

// tokenResponse is the answer of a token server, in either protocol.
type tokenResponse struct {
	Token       string          `json:"token"`
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"` // a number; some send a string
	IssuedAt    string          `json:"issued_at"`
}

// exchange sends a token request and reads the token of its answer.
func (t *RoundTripper) exchange(req *http.Request, need *scopeSet, ch *bearerChallenge) (*token, error) {
	realm := origin.RedactString(ch.realm.String())
	start := t.now()
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.tokenTimeout, errTokenTimeout)
	defer cancel()
	req = req.WithContext(ctx)
	hc := &http.Client{Transport: t.base, CheckRedirect: func(next *http.Request, via []*http.Request) error {
		return tokenRedirect(ch.realm, next, via)
	}}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the URL, query and all
		}
		if context.Cause(ctx) == errTokenTimeout {
			err = errTokenTimeout
		}
		return nil, fmt.Errorf("auth: token request to %s: %w", realm, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		if context.Cause(ctx) == errTokenTimeout {
			err = errTokenTimeout
		}
		return nil, fmt.Errorf("auth: token request to %s: read answer: %w", realm, err)
	}
	if resp.StatusCode != http.StatusOK {
		te := &tokenError{status: resp.StatusCode, realm: realm}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			te.err = transport.ErrUnauthorized
		case http.StatusForbidden:
			te.err = transport.ErrDenied
		case http.StatusTooManyRequests:
			te.err = transport.ErrTooManyRequests
		}
		return nil, te
	}
	if len(body) > maxTokenResponse {
		return nil, fmt.Errorf("auth: token request to %s: answer larger than %d KiB", realm, maxTokenResponse>>10)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("auth: token request to %s: answer is not a token response: %w", realm, err)
	}
	value := tr.Token
	if value == "" {
		value = tr.AccessToken
	}
	if value == "" {
		return nil, fmt.Errorf("auth: token request to %s: answer has no token", realm)
	}
	if !validToken(value) {
		return nil, fmt.Errorf("auth: token request to %s: answer has a token with characters a header cannot carry", realm)
	}
	return &token{value: value, scopes: need, refreshAt: refreshTime(start, t.now(), tr)}, nil
}

// validToken reports whether v can go in an Authorization header as is.
func validToken(v string) bool {
	for i := range len(v) {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return false
		}
	}
	return true
}

// refreshTime returns when a token fetched at start (and received at now)
// stops being used. Its life is expires_in (60s if absent or not
// positive, at most 24h), counted from start on the local clock; an issued_at that says
// the token is older (a token cached by a proxy) shortens it, but one that
// would make it stale on arrival is taken for clock skew and ignored. The
// token is dropped min(30s, a fifth of its life) early.
func refreshTime(start, now time.Time, tr tokenResponse) time.Time {
	life := defaultTokenLifetime
	if f, err := strconv.ParseFloat(strings.Trim(string(tr.ExpiresIn), `"`), 64); err == nil && f > 0 {
		life = time.Duration(min(f, maxTokenLifetime.Seconds()) * float64(time.Second))
	}
	margin := min(maxRefreshMargin, life/5)
	exp := start.Add(life)
	if issued, err := time.Parse(time.RFC3339, tr.IssuedAt); err == nil {
		if server := issued.Add(life); server.Before(exp) && server.Add(-margin).After(now) {
			exp = server
		}
	}
	return exp.Add(-margin)
}
