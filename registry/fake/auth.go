package fake

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regkit/regkit/internal/route"
	"github.com/regkit/regkit/transport"
)

// authMode is how a server authenticates requests.
type authMode int

const (
	authNone  authMode = iota // every request is served
	authBasic                 // Basic credentials on every request
	authToken                 // Bearer tokens from the server's token endpoint
)

// The names the server's challenges use.
const (
	basicRealm   = "regkit-fake"
	tokenService = "regkit-fake"
	tokenPath    = "/token"
)

// The actions of a grant, as the distribution token spec names them.
const (
	actionPull   = "pull"
	actionPush   = "push"
	actionDelete = "delete"
)

// allActions lists the repository actions in the order tokens list them.
var allActions = []string{actionPull, actionPush, actionDelete}

// WithBasicAuth makes the server require HTTP Basic credentials, as a
// registry behind htpasswd does. users maps each user name to its
// password. A request without credentials, or with wrong ones, gets 401
// UNAUTHORIZED with `WWW-Authenticate: Basic realm="regkit-fake"`, unless
// anonymous users are granted what it needs ([WithGrant]); an authenticated
// user who is not granted what a request needs gets 403 DENIED.
//
// It cannot be combined with [WithTokenAuth].
func WithBasicAuth(users map[string]string) ServerOption {
	return func(c *serverConfig) { c.setAuth(authBasic, "WithBasicAuth", users) }
}

// WithTokenAuth makes the server require Bearer tokens, as Docker Hub and
// registries with token auth do. users maps each user name to its password.
//
// A request without a valid token gets 401 UNAUTHORIZED with
//
//	WWW-Authenticate: Bearer realm="<URL>/token",service="regkit-fake",scope="repository:<name>:<actions>"
//
// and error="invalid_token" when its token is malformed, forged or expired,
// or error="insufficient_scope" when the token does not grant what the
// request needs. The server serves the realm itself, following the
// distribution token and OAuth2 specs:
//
//   - GET /token?service=regkit-fake&scope=… with Basic credentials or
//     none (anonymous), and offline_token=true for a refresh token;
//   - POST /token with a form: grant_type=password (username, password) or
//     grant_type=refresh_token (refresh_token), client_id (required), scope
//     (space-separated) and access_type=offline for a refresh token.
//
// Both answer {"token", "access_token", "expires_in", "issued_at"} and
// "refresh_token" when one was asked for by an authenticated user. A token
// grants the intersection of the requested scopes and the user's grants
// ([WithGrant]); it is signed by the server (HMAC-SHA256, in JWT form) and
// lasts [WithTokenTTL]. Refresh tokens do not expire. A service other than
// "regkit-fake" is refused with 400.
//
// It cannot be combined with [WithBasicAuth].
func WithTokenAuth(users map[string]string) ServerOption {
	return func(c *serverConfig) { c.setAuth(authToken, "WithTokenAuth", users) }
}

// WithGrant lets user do actions ("pull", "push", "delete", or "*" for all
// three) in the repositories repository names: one name, or a prefix when
// it ends in "*" ("team/*" is every repository under team/, "*" is every
// repository). user "" is anonymous, and what anonymous users are granted,
// every user is.
//
// Without any WithGrant, authenticated users may do everything and
// anonymous users nothing. With grants, users may do only what the grants
// say. Every authenticated user may list the catalog (the token scope
// registry:catalog:*) and call GET /v2/; anonymous users may call GET /v2/
// when some grant is theirs.
//
// Grants need [WithBasicAuth] or [WithTokenAuth], and a user they name.
func WithGrant(user, repository string, actions ...string) ServerOption {
	return func(c *serverConfig) {
		c.grants = append(c.grants, grant{user: user, repository: repository, actions: slices.Clone(actions)})
	}
}

// setAuth records an authentication mode, and a conflict if another was
// set.
func (c *serverConfig) setAuth(mode authMode, name string, users map[string]string) {
	if c.mode != authNone && c.mode != mode {
		c.conflicts = append(c.conflicts, "WithBasicAuth and WithTokenAuth conflict: a server has one authentication mode")
	}
	c.mode = mode
	if c.users == nil {
		c.users = make(map[string]string, len(users))
	}
	for u, p := range users {
		if u == "" || strings.Contains(u, ":") {
			c.conflicts = append(c.conflicts, fmt.Sprintf("%s: invalid user name %q", name, u))
		}
		c.users[u] = p
	}
}

// grant is what WithGrant records.
type grant struct {
	user       string // "": anonymous, so everyone
	repository string // a name, or a prefix ending in "*"
	actions    []string
}

// matches reports whether the grant covers the repository name.
func (g grant) matches(name string) bool {
	if prefix, ok := strings.CutSuffix(g.repository, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return g.repository == name
}

// access is one action on one resource, as a token's "access" claim and a
// challenge's scope name them.
type access struct {
	typ, name, action string
}

// catalogAccess is what listing the catalog needs.
var catalogAccess = access{typ: "registry", name: "catalog", action: "*"}

// authenticator checks the requests of a server with authentication.
type authenticator struct {
	mode   authMode
	users  map[string]string
	grants []grant // empty: authenticated users may do everything
	anon   bool    // some grant is anonymous
	ttl    time.Duration
	now    func() time.Time
	key    []byte // signs tokens
	realm  string // the token endpoint's URL, set once the server listens
}

// authenticator checks the authentication options; it returns nil when
// there is no authentication.
func (c *serverConfig) authenticator() (*authenticator, error) {
	if len(c.conflicts) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(c.conflicts, "; "))
	}
	if c.mode == authNone {
		if len(c.grants) > 0 {
			return nil, fmt.Errorf("WithGrant needs WithBasicAuth or WithTokenAuth")
		}
		if c.ttl != 0 {
			return nil, fmt.Errorf("WithTokenTTL needs WithTokenAuth")
		}
		return nil, nil
	}
	if c.ttl != 0 && c.mode != authToken {
		return nil, fmt.Errorf("WithTokenTTL needs WithTokenAuth")
	}
	a := &authenticator{mode: c.mode, users: c.users, ttl: c.ttl, now: c.now, key: make([]byte, 32)}
	if a.ttl <= 0 {
		a.ttl = defaultTokenTTL
	}
	_, _ = rand.Read(a.key) // never fails
	for _, g := range c.grants {
		if _, ok := c.users[g.user]; g.user != "" && !ok {
			return nil, fmt.Errorf("WithGrant(%q, %q): no such user", g.user, g.repository)
		}
		if g.repository == "" {
			return nil, fmt.Errorf("WithGrant(%q, %q): empty repository", g.user, g.repository)
		}
		var actions []string
		for _, act := range g.actions {
			switch act {
			case actionPull, actionPush, actionDelete:
				actions = append(actions, act)
			case "*":
				actions = append(actions, allActions...)
			default:
				return nil, fmt.Errorf("WithGrant(%q, %q): unknown action %q (want pull, push, delete or *)", g.user, g.repository, act)
			}
		}
		g.actions = actions
		a.grants = append(a.grants, g)
		a.anon = a.anon || g.user == ""
	}
	return a, nil
}

// permits reports whether user may have acc; authenticated says whether
// user proved who they are (anonymous otherwise).
func (a *authenticator) permits(user string, authenticated bool, acc access) bool {
	if acc == catalogAccess {
		return authenticated
	}
	if acc.typ != "repository" {
		return false
	}
	if len(a.grants) == 0 {
		return authenticated
	}
	for _, g := range a.grants {
		if (g.user == "" || (authenticated && g.user == user)) && g.matches(acc.name) && slices.Contains(g.actions, acc.action) {
			return true
		}
	}
	return false
}

// permitsBase reports whether user may call the version check, GET /v2/.
func (a *authenticator) permitsBase(authenticated bool) bool {
	return authenticated || a.anon
}

// checkPassword reports whether password is user's, in constant time.
func (a *authenticator) checkPassword(user, password string) bool {
	want, ok := a.users[user]
	match := subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
	return ok && match
}

// authorize decides whether r, which names t, may be served. It answers
// the refused ones itself, and returns the user r authenticated as.
func (a *authenticator) authorize(w http.ResponseWriter, r *http.Request, t route.Target) (user string, ok bool) {
	needs := requiredAccess(r, t)
	if a.mode == authBasic {
		return a.authorizeBasic(w, r, needs)
	}
	return a.authorizeBearer(w, r, needs)
}

// authorizeBasic checks r's Basic credentials.
func (a *authenticator) authorizeBasic(w http.ResponseWriter, r *http.Request, needs []access) (string, bool) {
	authenticated := false
	user, password, isBasic := r.BasicAuth()
	if r.Header.Get("Authorization") != "" {
		if !isBasic || !a.checkPassword(user, password) {
			a.challengeBasic(w, r, "invalid credentials", needs)
			return "", false
		}
		authenticated = true
	} else {
		user = ""
	}
	if a.permitsAll(user, authenticated, needs) {
		return user, true
	}
	if !authenticated {
		a.challengeBasic(w, r, "authentication required", needs)
		return "", false
	}
	var denied []access // name only what the user lacks
	for _, acc := range needs {
		if !a.permits(user, authenticated, acc) {
			denied = append(denied, acc)
		}
	}
	writeError(w, r, http.StatusForbidden, &transport.Error{
		Code:    transport.CodeDenied,
		Message: fmt.Sprintf("user %s may not %s", user, describe(denied)),
		Detail:  accessDetail(denied),
	})
	return user, false
}

// permitsAll reports whether user may have every access in needs, or call
// the version check when needs is empty.
func (a *authenticator) permitsAll(user string, authenticated bool, needs []access) bool {
	if len(needs) == 0 {
		return a.permitsBase(authenticated)
	}
	for _, acc := range needs {
		if !a.permits(user, authenticated, acc) {
			return false
		}
	}
	return true
}

// authorizeBearer checks r's Bearer token.
func (a *authenticator) authorizeBearer(w http.ResponseWriter, r *http.Request, needs []access) (string, bool) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		a.challengeBearer(w, r, "", "authentication required", needs)
		return "", false
	}
	c, err := a.verify(raw, tokenUseAccess)
	if err != nil {
		a.challengeBearer(w, r, "invalid_token", err.Error(), needs)
		return "", false
	}
	granted := true
	if len(needs) == 0 {
		granted = a.permitsBase(c.Subject != "")
	}
	for _, acc := range needs {
		granted = granted && c.grants(acc)
	}
	if !granted {
		a.challengeBearer(w, r, "insufficient_scope", "the token does not grant "+describe(needs), needs)
		return c.Subject, false
	}
	return c.Subject, true
}

// challengeBasic answers 401 with a Basic challenge.
func (a *authenticator) challengeBasic(w http.ResponseWriter, r *http.Request, msg string, needs []access) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+basicRealm+`"`)
	writeError(w, r, http.StatusUnauthorized, &transport.Error{Code: transport.CodeUnauthorized, Message: msg, Detail: accessDetail(needs)})
}

// challengeBearer answers 401 with a Bearer challenge naming the scope r
// needs, and errCode ("invalid_token", "insufficient_scope") if not empty.
func (a *authenticator) challengeBearer(w http.ResponseWriter, r *http.Request, errCode, msg string, needs []access) {
	ch := "Bearer realm=" + strconv.Quote(a.realm) + ",service=" + strconv.Quote(tokenService)
	if scope := scopeParam(needs); scope != "" {
		ch += ",scope=" + strconv.Quote(scope)
	}
	if errCode != "" {
		ch += ",error=" + strconv.Quote(errCode)
	}
	w.Header().Set("WWW-Authenticate", ch)
	writeError(w, r, http.StatusUnauthorized, &transport.Error{Code: transport.CodeUnauthorized, Message: msg, Detail: accessDetail(needs)})
}

// requiredAccess returns what r, which names t, needs: nothing for the
// version check and for paths that name no endpoint (which any
// authenticated user may try, and the handler refuses with the same
// parse), registry:catalog:* for the catalog, and an action on the
// repository t names otherwise: pull to read (GET, HEAD), pull and push to
// write (POST, PUT, PATCH, as the distribution registry asks), delete to
// delete; a cross-repository mount also needs pull on the repository it
// mounts from. Other methods need nothing: the handler refuses them with
// 405 without touching the repository.
func requiredAccess(r *http.Request, t route.Target) []access {
	switch t.Kind {
	case route.Catalog:
		return []access{catalogAccess}
	case route.None, route.Base:
		return nil
	}
	var action string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		action = actionPull
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		action = actionPush
	case http.MethodDelete:
		action = actionDelete
	default:
		return nil
	}
	needs := []access{{typ: "repository", name: t.Name, action: action}}
	if action == actionPush { // as the distribution registry: writing needs pull too
		needs = []access{{typ: "repository", name: t.Name, action: actionPull}, needs[0]}
	}
	if from, ok := crossMount(r, t); ok {
		needs = append(needs, access{typ: "repository", name: from, action: actionPull})
	}
	return needs
}

// scopeParam formats needs as a challenge's scope: one
// "type:name:action,action" per resource, space-separated.
func scopeParam(needs []access) string {
	var scopes []string
	idx := map[[2]string]int{}
	for _, acc := range needs {
		key := [2]string{acc.typ, acc.name}
		if i, ok := idx[key]; ok {
			scopes[i] += "," + acc.action
			continue
		}
		idx[key] = len(scopes)
		scopes = append(scopes, acc.typ+":"+acc.name+":"+acc.action)
	}
	return strings.Join(scopes, " ")
}

// describe says what needs asks for, for messages.
func describe(needs []access) string {
	if len(needs) == 0 {
		return "access the registry"
	}
	return scopeParam(needs)
}

// accessDetail is the detail of an UNAUTHORIZED or DENIED error: the
// access the request needs, in the form the distribution registry sends.
func accessDetail(needs []access) any {
	if len(needs) == 0 {
		return nil
	}
	type entry struct {
		Type, Name, Action string
	}
	d := make([]entry, len(needs))
	for i, acc := range needs {
		d[i] = entry{acc.typ, acc.name, acc.action}
	}
	return d
}

// writeError writes the spec's JSON error body for e with status; HEAD
// responses get the headers only.
func writeError(w http.ResponseWriter, r *http.Request, status int, e *transport.Error) {
	body, _ := json.Marshal(map[string][]*transport.Error{"errors": {e}}) // strings only: cannot fail
	writeJSONBody(w, r, status, body)
}

// writeJSONBody writes a JSON body with status.
func writeJSONBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
