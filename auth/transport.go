package auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/transport"
)

// RoundTripper is an [http.RoundTripper] that adds credentials to the
// requests of one registry: it answers the registry's 401 challenges, Basic or Bearer
// (the token protocol of https://distribution.github.io/distribution/spec/auth/token/,
// with its OAuth2 variant), fetches and caches tokens, and replays the
// request with them. Requests to other hosts or ports (blob redirects to
// object storage or a CDN), to the registry's host on another scheme than
// that of the first request (a redirect from HTTPS to plain HTTP), and
// requests that already carry an Authorization header go to the base
// round tripper untouched. A token realm must be HTTPS, unless the registry
// is plain HTTP itself and the realm is on its host, or both are on
// loopback; token requests follow redirects only on the realm's origin,
// and must be answered in full within a minute.
// A realm or redirect refused so is an [*transport.OriginError]. A challenge whose
// scope list names more than 64 scopes or is longer than 16 KiB is refused
// with a [github.com/regkit/regkit/transport.LimitError].
//
// A RoundTripper learns from the first challenge: later requests carry the
// Basic credential, or a token that covers the scopes they need, up front.
// Until the registry has answered once, requests without a body wait for
// the first one, so that a burst of them costs one 401, not one each.
// A token serves every request its scopes cover until a little before it
// expires, and requests that need the same token wait for one fetch.
// A token request asks for every scope the operation under way will need:
// a push of package repository asks for pull and push on its repository
// from its first request, a copy within one registry for pull on the
// source too, so that each costs one token request; see [WithScopes] for
// operations of your own. Passwords go to the token server with GET and
// Basic auth, as docker sends them; an identity (refresh) token with the
// OAuth2 POST, and a realm that answers that POST 404 or 405 is sent
// GET from then on, when the credential has a password too.
//
// A request that gets a 401 is replayed once with new credentials, if its
// body can be replayed (no body, or [http.Request.GetBody] set); otherwise
// the 401 response is returned as it is. An error response (4xx, 5xx) to
// a request the RoundTripper authorized has every form of the credential or
// token it carried replaced by "***" in the first 128 KiB of its body, so
// that a registry quoting it cannot get it into an error message. Like
// every RoundTripper, a
// RoundTripper never changes the caller's request, always closes its body,
// and returns a nil error for any HTTP status; it fails only when it
// cannot send, cannot get a credential, or a token server refuses (errors
// that match [github.com/regkit/regkit/transport.ErrUnauthorized] or
// [github.com/regkit/regkit/transport.ErrDenied]). It never logs, and its
// errors never hold passwords or tokens.
//
// A RoundTripper is safe for concurrent use.
type RoundTripper struct {
	host  string
	names []string // the hosts (with port, lower case) of the registry
	creds CredentialStore
	base  http.RoundTripper
	now   func() time.Time
	// tokenTimeout bounds each token request; tests shorten it.
	tokenTimeout time.Duration

	mu      sync.Mutex
	proto   string           // the registry's URL scheme: that of the first request
	scheme  string           // learned from challenges: "", "basic" or "bearer"
	basic   string           // Authorization value that a Basic registry took
	bearer  *bearerChallenge // where tokens come from
	tokens  tokenCache
	flights map[*flight]struct{}
	noPost  map[string]bool // realms that answered an OAuth2 POST 404 or 405
	probe   chan struct{}   // closed when the request probing the registry is done
	probed  bool            // the registry has answered a request
}

var _ http.RoundTripper = (*RoundTripper)(nil)

// NewRoundTripper returns a RoundTripper for the registry host, the host[:port]
// its requests go to ("ghcr.io", "localhost:5000"). Docker Hub's names
// ("docker.io", "index.docker.io", "registry-1.docker.io") all mean its
// API host. creds gives the credential, looked up by host as given; nil
// means anonymous. base sends the requests, token requests included; nil
// means a new [http.Transport] cloned from [http.DefaultTransport].
//
// NewRoundTripper does no I/O.
func NewRoundTripper(host string, creds CredentialStore, base http.RoundTripper) *RoundTripper {
	if base == nil {
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			base = dt.Clone()
		} else {
			base = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
	}
	names := []string{strings.ToLower(host)}
	switch names[0] {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		names = []string{"docker.io", "index.docker.io", "registry-1.docker.io"}
	}
	return &RoundTripper{
		host:         host,
		names:        names,
		creds:        creds,
		base:         base,
		now:          time.Now,
		tokenTimeout: tokenTimeout,
		flights:      map[*flight]struct{}{},
		noPost:       map[string]bool{},
	}
}

// String describes the RoundTripper by its registry host, never a credential
// or token it holds.
func (t *RoundTripper) String() string { return "auth.RoundTripper(" + t.host + ")" }

// GoString is String, so that %#v shows no secret either.
func (t *RoundTripper) GoString() string { return t.String() }

// Format writes String for every verb, so that no verb (%v, %+v, %#v, %x
// and the rest) prints the credential or tokens the RoundTripper holds.
func (t *RoundTripper) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// CloseIdleConnections closes the idle connections of the base round
// tripper, when it has such a method (an [http.Transport] does).
func (t *RoundTripper) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// attempt is the authorization a request was sent with.
type attempt struct {
	header string // Authorization value, or ""
	tok    *token // the bearer token sent, if any
}

// RoundTrip sends r, authenticating it if it goes to the RoundTripper's
// registry. See [RoundTripper].
func (t *RoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL == nil || !t.ours(r.URL) || r.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(r)
	}
	ctx := r.Context()
	need := &lazyScopes{t: t, r: r}
	sent, probing, err := t.upfront(ctx, need, r)
	if err != nil {
		closeBody(r)
		return nil, err
	}
	if probing {
		defer t.endProbe()
	}
	resp, err := t.send(r, r.Body, sent.header)
	if err == nil && probing {
		t.mu.Lock()
		t.probed = true // the registry answered: no more probes
		t.mu.Unlock()
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if !replayable(r) {
		t.learn(r.URL, resp) // so that the next request goes with a token
		return resp, nil
	}
	next, basic, err := t.answer(ctx, r.URL, resp, need.get(), sent)
	if probing && !basic {
		t.endProbe() // waiters can use the token while this request replays
	}
	if err != nil {
		discard(resp)
		return nil, err
	}
	if next == "" || next == sent.header {
		return resp, nil // nothing new to try
	}
	discard(resp)
	body, err := rewind(r)
	if err != nil {
		return nil, fmt.Errorf("auth: replay %s %s: get body: %w", r.Method, r.URL.Redacted(), err)
	}
	resp, err = t.send(r, body, next)
	if err == nil && basic && resp.StatusCode != http.StatusUnauthorized {
		t.mu.Lock()
		t.scheme, t.basic = "basic", next
		t.mu.Unlock()
	}
	return resp, err
}

// serves reports whether origin ("https://ghcr.io", as
// [transport.Originer] gives it) is the RoundTripper's registry, so that
// the scopes a context asks for there are its to ask for.
func (t *RoundTripper) serves(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && t.ours(u)
}

// ours reports whether u goes to the RoundTripper's registry: to one of its
// names, with the scheme of the first such request (the registry's origin;
// a credential does not follow a switch from HTTPS to plain HTTP, see
// [transport.OriginError]).
func (t *RoundTripper) ours(u *url.URL) bool {
	for _, n := range t.names {
		if origin.Same(u, &url.URL{Scheme: u.Scheme, Host: n}) {
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.proto == "" {
				t.proto = strings.ToLower(u.Scheme)
			}
			return strings.EqualFold(t.proto, u.Scheme)
		}
	}
	return false
}

// upfront returns the authorization to send r with before any challenge:
// what the registry's earlier challenges taught, if anything.
//
// Until the registry has answered once, one bodiless request at a time
// goes out as a probe, and the others wait for it (they would all get the
// same 401): it reports true, and the caller ends the probe with
// [RoundTripper.endProbe].
func (t *RoundTripper) upfront(ctx context.Context, need *lazyScopes, r *http.Request) (attempt, bool, error) {
	for {
		t.mu.Lock()
		scheme, basic, ch := t.scheme, t.basic, t.bearer
		if scheme == "" {
			// A probe in flight is waited for even once the registry has
			// answered it: until its 401 is learned, a request sent now
			// would go without credentials and get the same 401.
			if wait := t.probe; wait != nil {
				t.mu.Unlock()
				select {
				case <-wait:
					continue
				case <-ctx.Done():
					return attempt{}, false, ctx.Err()
				}
			}
		}
		if scheme == "" && !t.probed {
			if r.Body == nil || r.Body == http.NoBody {
				t.probe = make(chan struct{})
				t.mu.Unlock()
				return attempt{}, true, nil
			}
		}
		t.mu.Unlock()
		switch scheme {
		case "basic":
			return attempt{header: basic}, false, nil
		case "bearer":
			tok, err := t.bearerToken(ctx, need.get(), ch, nil)
			if err != nil {
				return attempt{}, false, err
			}
			return attempt{header: "Bearer " + tok.value, tok: tok}, false, nil
		}
		return attempt{}, false, nil
	}
}

// lazyScopes are the scopes a request needs (see requestScopes), read
// from it when first asked for: only a token needs them, so a request to a
// registry without tokens (anonymous, or Basic) never reads them.
type lazyScopes struct {
	t  *RoundTripper
	r  *http.Request
	ss *scopeSet
}

func (l *lazyScopes) get() *scopeSet {
	if l.ss == nil {
		l.ss = requestScopes(l.r, l.t.serves)
	}
	return l.ss
}

// endProbe lets the requests waiting for a probe go. It may be called more
// than once.
func (t *RoundTripper) endProbe() {
	t.mu.Lock()
	if t.probe != nil {
		close(t.probe)
		t.probe = nil
	}
	t.mu.Unlock()
}

// answer works out the authorization that answers the challenges of a 401
// response to a request for u sent with sent. It returns "" when there is
// nothing to try, and whether the answer is Basic.
func (t *RoundTripper) answer(ctx context.Context, u *url.URL, resp *http.Response, need *scopeSet, sent attempt) (string, bool, error) {
	chs, _ := ParseChallenges(resp.Header.Values("WWW-Authenticate")) // use what parses
	var basic *Challenge
	for i, c := range chs {
		switch {
		case c.Scheme == "bearer" && c.Params["realm"] != "":
			ch, err := t.learnBearer(u, c)
			if err != nil {
				return "", false, err
			}
			want := need
			if s := c.Params["scope"]; s != "" {
				extra, err := challengeScopes(s)
				if err != nil {
					return "", false, err
				}
				want = extra.union(need)
			}
			tok, err := t.bearerToken(ctx, want, ch, sent.tok)
			if err != nil {
				return "", false, err
			}
			return "Bearer " + tok.value, false, nil
		case c.Scheme == "basic" && basic == nil:
			basic = &chs[i]
		}
	}
	if basic == nil {
		return "", false, nil
	}
	if sent.header != "" {
		t.mu.Lock()
		if t.basic == sent.header {
			t.scheme, t.basic = "", "" // refused: ask the store again
		}
		t.mu.Unlock()
	}
	cred, err := t.credential(ctx)
	if err != nil {
		return "", false, err
	}
	if cred.Username == "" && cred.Password == "" {
		return "", false, nil
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password)), true, nil
}

// challengeScopes parses the scope list of a Bearer challenge, refusing
// one longer than [maxChallengeScopeBytes] or with more than
// [maxChallengeScopes] scopes with a [*transport.LimitError].
func challengeScopes(list string) (*scopeSet, error) {
	if len(list) > maxChallengeScopeBytes {
		return nil, fmt.Errorf("auth: %w", &transport.LimitError{What: "scope of the registry's Bearer challenge",
			Unit: "bytes", Limit: maxChallengeScopeBytes, Got: int64(len(list))})
	}
	ss := newScopeSet()
	ss.addList(list)
	if n := len(ss.order); n > maxChallengeScopes {
		return nil, fmt.Errorf("auth: %w", &transport.LimitError{What: "scope of the registry's Bearer challenge",
			Unit: "entries", Limit: maxChallengeScopes, Got: int64(n)})
	}
	return ss, nil
}

// learnBearer checks and remembers the token realm of a Bearer challenge
// to a request for u.
func (t *RoundTripper) learnBearer(u *url.URL, c Challenge) (*bearerChallenge, error) {
	realm, err := checkRealm(c.Params["realm"], u)
	if err != nil {
		return nil, err
	}
	ch := &bearerChallenge{realm: realm, service: c.Params["service"]}
	t.mu.Lock()
	t.scheme, t.basic, t.bearer = "bearer", "", ch
	t.mu.Unlock()
	return ch, nil
}

// learn remembers the token realm of a 401 response that is not answered.
func (t *RoundTripper) learn(u *url.URL, resp *http.Response) {
	chs, _ := ParseChallenges(resp.Header.Values("WWW-Authenticate"))
	for _, c := range chs {
		if c.Scheme == "bearer" && c.Params["realm"] != "" {
			_, _ = t.learnBearer(u, c) // a bad realm is reported when used
			return
		}
	}
}

// credential asks the store for the registry's credential.
func (t *RoundTripper) credential(ctx context.Context) (Credential, error) {
	if t.creds == nil {
		return Credential{}, nil
	}
	c, err := t.creds.Credential(ctx, t.host)
	if err != nil {
		return Credential{}, fmt.Errorf("auth: credential for %s: %w", t.host, err)
	}
	return c, nil
}

// send sends a copy of r with body and, if not empty, the Authorization
// header.
func (t *RoundTripper) send(r *http.Request, body io.ReadCloser, authorization string) (*http.Response, error) {
	if authorization == "" && body == r.Body {
		return t.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.Body = body
	if authorization != "" {
		r2.Header.Set("Authorization", authorization)
	}
	resp, err := t.base.RoundTrip(r2)
	if err == nil && authorization != "" && resp.StatusCode >= http.StatusBadRequest {
		redactBody(resp, authSecrets(authorization))
	}
	return resp, err
}

// replayable reports whether r can be sent again.
func replayable(r *http.Request) bool {
	return r.Body == nil || r.Body == http.NoBody || r.GetBody != nil
}

// rewind returns a fresh body for sending r again.
func rewind(r *http.Request) (io.ReadCloser, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return r.Body, nil
	}
	return r.GetBody()
}

// closeBody closes the body of a request that will not be sent.
func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// discard reads a little of a response that will not be returned, so its
// connection can be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxTokenResponse))
	resp.Body.Close()
}
