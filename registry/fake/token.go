package fake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/regkit/regkit/transport"
)

// defaultTokenTTL is how long tokens last unless WithTokenTTL says
// otherwise.
const defaultTokenTTL = 5 * time.Minute

// WithTokenTTL sets how long the tokens of [WithTokenAuth] last, rounded up
// to a whole second (a token's expiry is in seconds); d <= 0 means the
// default, 5 minutes. An expired token gets 401 with error="invalid_token".
// It needs [WithTokenAuth].
func WithTokenTTL(d time.Duration) ServerOption {
	return func(c *serverConfig) {
		c.ttl = d
		if d <= 0 {
			c.ttl = defaultTokenTTL
		}
	}
}

// The uses of a token, in its "use" claim: a refresh token cannot be sent
// as an access token, nor the reverse.
const (
	tokenUseAccess  = "access"
	tokenUseRefresh = "refresh"
)

// tokenClaims is the claim set of the server's tokens, JWTs signed with
// HS256.
type tokenClaims struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  string        `json:"aud"`
	Expiry    int64         `json:"exp,omitempty"` // 0: never (refresh tokens)
	NotBefore int64         `json:"nbf"`
	IssuedAt  int64         `json:"iat"`
	ID        string        `json:"jti"`
	Use       string        `json:"use"`
	Access    []tokenAccess `json:"access,omitempty"`
}

// tokenAccess is an entry of a token's "access" claim.
type tokenAccess struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// grants reports whether the token grants acc.
func (c *tokenClaims) grants(acc access) bool {
	for _, ta := range c.Access {
		if ta.Type == acc.typ && ta.Name == acc.name && slices.Contains(ta.Actions, acc.action) {
			return true
		}
	}
	return false
}

// tokenHeader is the JOSE header of every token the server signs.
var tokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// The reasons a token or a token request is refused.
var (
	errTokenMalformed = errors.New("malformed token")
	errTokenSignature = errors.New("token signature invalid")
	errTokenExpired   = errors.New("token expired")
	errTokenUse       = errors.New("token of the wrong kind")

	errBadCredentials = &tokenError{status: http.StatusUnauthorized, code: "invalid_grant", msg: "invalid credentials"}
)

// sign returns the token for c.
func (a *authenticator) sign(c tokenClaims) string {
	payload, _ := json.Marshal(c) // plain fields: cannot fail
	signed := tokenHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + base64.RawURLEncoding.EncodeToString(a.mac(signed))
}

func (a *authenticator) mac(signed string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// verify checks a token's signature, use and expiry, and returns its
// claims.
func (a *authenticator) verify(raw, use string) (*tokenClaims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[0] != tokenHeader {
		return nil, errTokenMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errTokenMalformed
	}
	if !hmac.Equal(sig, a.mac(parts[0]+"."+parts[1])) {
		return nil, errTokenSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errTokenMalformed
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errTokenMalformed
	}
	if c.Use != use {
		return nil, errTokenUse
	}
	if c.Expiry != 0 && a.now().Unix() >= c.Expiry {
		return nil, errTokenExpired
	}
	return &c, nil
}

// newClaims returns the claims of a new token for subject.
func (a *authenticator) newClaims(subject, use string, now time.Time) tokenClaims {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // never fails
	return tokenClaims{
		Issuer: tokenService, Subject: subject, Audience: tokenService,
		NotBefore: now.Unix(), IssuedAt: now.Unix(), ID: hex.EncodeToString(id), Use: use,
	}
}

// tokenRequest is what a request to the token endpoint asks for, once its
// credentials were checked.
type tokenRequest struct {
	user          string // "": anonymous
	scopes        []string
	offline       bool // hand out a refresh token
	refreshToken  string
	includeScopes bool // the OAuth2 answer lists the granted scope
}

// tokenError is an error of the token endpoint: an OAuth2 error code
// (RFC 6749, section 5.2) sent with its status, and the same as an OCI
// error body.
type tokenError struct {
	status int
	code   string // OAuth2: invalid_request, invalid_grant, invalid_scope, …
	msg    string
}

func (e *tokenError) Error() string { return e.msg }

func badTokenRequest(code, format string, args ...any) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// serveToken serves the token endpoint and returns the user it
// authenticated.
func (a *authenticator) serveToken(w http.ResponseWriter, r *http.Request) string {
	var (
		req tokenRequest
		err error
	)
	switch r.Method {
	case http.MethodGet:
		req, err = a.parseTokenGet(r)
	case http.MethodPost:
		req, err = a.parseTokenPost(r)
	default:
		w.Header().Set("Allow", "GET, POST")
		err = &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", msg: "method " + r.Method + " is not allowed here; allowed: GET, POST"}
	}
	var te *tokenError
	if errors.As(err, &te) {
		a.writeTokenError(w, r, te)
		return ""
	}
	resp, err := a.issue(req)
	if errors.As(err, &te) {
		a.writeTokenError(w, r, te)
		return ""
	}
	body, _ := json.Marshal(resp) // plain fields: cannot fail
	writeJSONBody(w, r, http.StatusOK, body)
	return req.user
}

// parseTokenGet reads a GET request of the distribution token spec.
func (a *authenticator) parseTokenGet(r *http.Request) (tokenRequest, error) {
	q := r.URL.Query()
	if err := checkService(q.Get("service")); err != nil {
		return tokenRequest{}, err
	}
	req := tokenRequest{scopes: q["scope"], offline: q.Get("offline_token") == "true"}
	if r.Header.Get("Authorization") != "" {
		user, password, ok := r.BasicAuth()
		if !ok || !a.checkPassword(user, password) {
			return tokenRequest{}, errBadCredentials
		}
		req.user = user
	}
	return req, nil
}

// parseTokenPost reads a POST request of the distribution OAuth2 spec.
func (a *authenticator) parseTokenPost(r *http.Request) (tokenRequest, error) {
	if err := r.ParseForm(); err != nil {
		return tokenRequest{}, badTokenRequest("invalid_request", "malformed form: %v", err)
	}
	f := r.PostForm
	if err := checkService(f.Get("service")); err != nil {
		return tokenRequest{}, err
	}
	if f.Get("client_id") == "" {
		return tokenRequest{}, badTokenRequest("invalid_request", "client_id is required")
	}
	req := tokenRequest{scopes: f["scope"], offline: f.Get("access_type") == "offline", includeScopes: true}
	switch gt := f.Get("grant_type"); gt {
	case "password":
		user := f.Get("username")
		if user == "" {
			return tokenRequest{}, badTokenRequest("invalid_request", "username is required with grant_type=password")
		}
		if !a.checkPassword(user, f.Get("password")) {
			return tokenRequest{}, errBadCredentials
		}
		req.user = user
	case "refresh_token":
		c, err := a.verify(f.Get("refresh_token"), tokenUseRefresh)
		if err != nil {
			return tokenRequest{}, &tokenError{status: http.StatusUnauthorized, code: "invalid_grant", msg: "invalid refresh token: " + err.Error()}
		}
		req.user, req.refreshToken = c.Subject, f.Get("refresh_token")
	default:
		return tokenRequest{}, badTokenRequest("unsupported_grant_type", "unsupported grant_type %q (want password or refresh_token)", gt)
	}
	return req, nil
}

// checkService refuses a service other than the server's.
func checkService(service string) error {
	if service != "" && service != tokenService {
		return badTokenRequest("invalid_request", "unknown service %q (want %q)", service, tokenService)
	}
	return nil
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// issue makes the tokens req asks for.
func (a *authenticator) issue(req tokenRequest) (tokenResponse, error) {
	var claim []tokenAccess
	var granted []string
	for _, s := range req.scopes {
		for _, scope := range strings.Fields(s) {
			ta, err := parseScope(scope)
			if err != nil {
				return tokenResponse{}, err
			}
			var actions []string
			for _, act := range ta.Actions {
				if acc := (access{typ: ta.Type, name: ta.Name, action: act}); a.permits(req.user, req.user != "", acc) && !slices.Contains(actions, act) {
					actions = append(actions, act)
				}
			}
			if len(actions) > 0 {
				ta.Actions = actions
				claim = append(claim, ta)
				granted = append(granted, ta.Type+":"+ta.Name+":"+strings.Join(actions, ","))
			}
		}
	}
	now := a.now()
	ttl := int64((a.ttl + time.Second - 1) / time.Second)
	c := a.newClaims(req.user, tokenUseAccess, now)
	c.Expiry, c.Access = now.Unix()+ttl, claim
	tok := a.sign(c)
	resp := tokenResponse{Token: tok, AccessToken: tok, ExpiresIn: ttl, IssuedAt: now.UTC().Format(time.RFC3339)}
	if req.includeScopes {
		resp.Scope = strings.Join(granted, " ")
	}
	if req.offline && req.user != "" {
		resp.RefreshToken = req.refreshToken
		if resp.RefreshToken == "" {
			resp.RefreshToken = a.sign(a.newClaims(req.user, tokenUseRefresh, now))
		}
	}
	return resp, nil
}

// parseScope parses one scope of a token request, "type:name:actions"
// (the type may carry a class, "repository(plugin)"; the name may hold
// colons). A repository's "*" action means every action.
func parseScope(scope string) (tokenAccess, error) {
	i, j := strings.Index(scope, ":"), strings.LastIndex(scope, ":")
	if i <= 0 || i == j || j == i+1 {
		return tokenAccess{}, badTokenRequest("invalid_scope", "malformed scope %q (want type:name:actions)", scope)
	}
	typ, _, _ := strings.Cut(scope[:i], "(")
	ta := tokenAccess{Type: typ, Name: scope[i+1 : j]}
	for _, act := range strings.Split(scope[j+1:], ",") {
		if act == "*" && typ == "repository" {
			ta.Actions = append(ta.Actions, allActions...)
			continue
		}
		ta.Actions = append(ta.Actions, act)
	}
	return ta, nil
}

// writeTokenError answers a refused token request: the OAuth2 error fields
// and the OCI error body in one JSON object, and a Basic challenge for bad
// credentials on GET.
func (a *authenticator) writeTokenError(w http.ResponseWriter, r *http.Request, e *tokenError) {
	if e.status == http.StatusUnauthorized && r.Method == http.MethodGet {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+basicRealm+`"`)
	}
	code := transport.CodeUnauthorized
	if e.status != http.StatusUnauthorized {
		code = transport.CodeUnsupported
	}
	body, _ := json.Marshal(struct {
		Error       string             `json:"error"`
		Description string             `json:"error_description"`
		Errors      []*transport.Error `json:"errors"`
	}{e.code, e.msg, []*transport.Error{{Code: code, Message: e.msg}}})
	writeJSONBody(w, r, e.status, body)
}
