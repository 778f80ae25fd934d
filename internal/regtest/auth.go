package regtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The names the registries of DistributionBasic and DistributionToken use.
const (
	basicRealm   = "regkit-test"        // the Basic realm of DistributionBasic
	tokenService = "regkit-test"        // the token service (audience) of DistributionToken
	tokenIssuer  = "regkit-test-issuer" // the issuer of its tokens
	tokenTTL     = 5 * time.Minute
)

// DistributionBasic starts docker-registry, as [Distribution] does, behind
// HTTP Basic authentication: users maps each user name to its password,
// stored bcrypt-hashed in an htpasswd file written by Debian's htpasswd
// (package apache2-utils). Every authenticated user may do everything;
// anonymous requests get 401 with `WWW-Authenticate: Basic
// realm="regkit-test"`. It returns the registry's host:port.
func DistributionBasic(t testing.TB, users map[string]string) string {
	t.Helper()
	bin := authTool(t, "htpasswd", "apache2-utils")
	var file strings.Builder
	for _, u := range sortedKeys(users) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, bin, "-nbB", u, users[u]).Output()
		cancel()
		if err != nil {
			t.Fatalf("htpasswd -nbB %s: %v", u, err)
		}
		file.WriteString(strings.TrimSpace(string(out)) + "\n")
	}
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return Distribution(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: %s\n    path: %s\n", basicRealm, path))
}

// Grant is an access the token server of [DistributionToken] grants.
type Grant struct {
	// User is the user the grant is for; "" is anonymous, and what
	// anonymous users are granted, every user is.
	User string
	// Repository is a repository name, or a prefix when it ends in "*"
	// ("team/*"; "*" is every repository).
	Repository string
	// Actions are the actions granted: "pull", "push", "delete", or "*"
	// for all three.
	Actions []string
}

// DistributionToken starts docker-registry, as [Distribution] does, behind
// token authentication, with a token server of its own on 127.0.0.1 that
// the registry's challenges name as realm (service "regkit-test"). It
// returns the registry's host:port.
//
// The token server follows the distribution token and OAuth2 specs: GET
// /token with Basic credentials or none (anonymous), scope parameters and
// offline_token=true for a refresh token; POST /token with grant_type
// password or refresh_token, client_id, scope and access_type=offline. A
// token grants the intersection of the scopes asked for and the user's
// grants; without grants, authenticated users may do everything and
// anonymous users nothing. Authenticated users may always list the
// catalog.
//
// The tokens are JWTs signed with ES256 by a P-256 key made for the test;
// their header carries the key's libtrust key ID ("kid") and its
// self-signed certificate ("x5c"), which the registry's rootcertbundle
// trusts.
func DistributionToken(t testing.TB, users map[string]string, grants ...Grant) string {
	t.Helper()
	ts, err := newTokenServer(users, grants)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	bundle := filepath.Join(t.TempDir(), "rootcerts.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.cert}), 0o600); err != nil {
		t.Fatal(err)
	}
	return Distribution(t, fmt.Sprintf(`auth:
  token:
    realm: %s/token
    service: %s
    issuer: %s
    rootcertbundle: %s
`, srv.URL, tokenService, tokenIssuer, bundle))
}

// authTool is [Tool] for a command of another package than the registry's.
func authTool(t testing.TB, name, pkg string) string {
	t.Helper()
	return lookTool(t, name, pkg)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tokenServer issues the tokens of DistributionToken.
type tokenServer struct {
	users  map[string]string
	grants []Grant
	key    *ecdsa.PrivateKey
	cert   []byte // DER, self-signed
	kid    string

	mu      sync.Mutex
	refresh map[string]string // refresh token -> user
}

func newTokenServer(users map[string]string, grants []Grant) (*tokenServer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "regkit-test token signer"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kid, err := libtrustKeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &tokenServer{users: users, grants: grants, key: key, cert: cert, kid: kid, refresh: map[string]string{}}, nil
}

// libtrustKeyID returns the key ID docker/libtrust gives a public key, the
// form distribution 2.x expects in a token's "kid": the SHA-256 of the
// DER-encoded PKIX public key, truncated to 240 bits, base32-encoded and
// cut in 12 groups of 4 characters joined by ":".
func libtrustKeyID(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	s := base32.StdEncoding.EncodeToString(sum[:30])
	groups := make([]string, 0, 12)
	for i := 0; i < len(s); i += 4 {
		groups = append(groups, s[i:i+4])
	}
	return strings.Join(groups, ":"), nil
}

// sign returns the ES256 JWT for claims: the signature is r || s, each 32
// bytes big-endian (RFC 7518, section 3.4), not the ASN.1 form.
func (ts *tokenServer) sign(claims any) (string, error) {
	header, _ := json.Marshal(map[string]any{ // strings only: cannot fail
		"typ": "JWT", "alg": "ES256", "kid": ts.kid,
		"x5c": []string{base64.StdEncoding.EncodeToString(ts.cert)},
	})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// permits reports whether user (anonymous when authenticated is false) may
// do action on the resource typ:name.
func (ts *tokenServer) permits(user string, authenticated bool, typ, name, action string) bool {
	if typ == "registry" && name == "catalog" && action == "*" {
		return authenticated
	}
	if typ != "repository" {
		return false
	}
	if len(ts.grants) == 0 {
		return authenticated
	}
	for _, g := range ts.grants {
		if g.User != "" && (!authenticated || g.User != user) {
			continue
		}
		if prefix, ok := strings.CutSuffix(g.Repository, "*"); !(ok && strings.HasPrefix(name, prefix)) && g.Repository != name {
			continue
		}
		if slices.Contains(g.Actions, action) || slices.Contains(g.Actions, "*") {
			return true
		}
	}
	return false
}

func (ts *tokenServer) checkPassword(user, password string) bool {
	want, ok := ts.users[user]
	return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1 && ok
}

// tokenAccess is an entry of a token's "access" claim.
type tokenAccess struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// ServeHTTP serves GET and POST /token.
func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	var (
		user, refresh string
		scopes        []string
		offline       bool
		form          = r.URL.Query()
	)
	switch r.Method {
	case http.MethodGet:
		if r.Header.Get("Authorization") != "" {
			u, p, ok := r.BasicAuth()
			if !ok || !ts.checkPassword(u, p) {
				w.Header().Set("WWW-Authenticate", `Basic realm="`+basicRealm+`"`)
				tokenError(w, http.StatusUnauthorized, "invalid_grant", "invalid credentials")
				return
			}
			user = u
		}
		scopes, offline = form["scope"], form.Get("offline_token") == "true"
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			tokenError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		form = r.PostForm
		if form.Get("client_id") == "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "client_id is required")
			return
		}
		switch form.Get("grant_type") {
		case "password":
			if !ts.checkPassword(form.Get("username"), form.Get("password")) {
				tokenError(w, http.StatusUnauthorized, "invalid_grant", "invalid credentials")
				return
			}
			user = form.Get("username")
		case "refresh_token":
			refresh = form.Get("refresh_token")
			ts.mu.Lock()
			user = ts.refresh[refresh]
			ts.mu.Unlock()
			if user == "" {
				tokenError(w, http.StatusUnauthorized, "invalid_grant", "unknown refresh token")
				return
			}
		default:
			tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type")
			return
		}
		scopes, offline = strings.Fields(form.Get("scope")), form.Get("access_type") == "offline"
	default:
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "use GET or POST")
		return
	}
	if s := form.Get("service"); s != "" && s != tokenService {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unknown service "+s)
		return
	}
	ts.issue(w, user, scopes, offline, refresh)
}

// issue answers with a token for user granting what scopes ask for and
// user may have.
func (ts *tokenServer) issue(w http.ResponseWriter, user string, scopes []string, offline bool, refresh string) {
	access := []tokenAccess{}
	for _, scope := range scopes {
		for _, sc := range strings.Fields(scope) {
			i, j := strings.Index(sc, ":"), strings.LastIndex(sc, ":")
			if i <= 0 || i == j {
				tokenError(w, http.StatusBadRequest, "invalid_scope", "malformed scope "+sc)
				return
			}
			ta := tokenAccess{Type: sc[:i], Name: sc[i+1 : j]}
			for _, act := range strings.Split(sc[j+1:], ",") {
				if ts.permits(user, user != "", ta.Type, ta.Name, act) && !slices.Contains(ta.Actions, act) {
					ta.Actions = append(ta.Actions, act)
				}
			}
			if len(ta.Actions) > 0 {
				access = append(access, ta)
			}
		}
	}
	now := time.Now()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	tok, err := ts.sign(map[string]any{
		"iss": tokenIssuer, "sub": user, "aud": tokenService,
		"exp": now.Add(tokenTTL).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
		"jti": hex.EncodeToString(jti), "access": access,
	})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	resp := map[string]any{
		"token": tok, "access_token": tok,
		"expires_in": int(tokenTTL.Seconds()), "issued_at": now.UTC().Format(time.RFC3339),
	}
	if offline && user != "" {
		if refresh == "" {
			b := make([]byte, 24)
			_, _ = rand.Read(b)
			refresh = hex.EncodeToString(b)
			ts.mu.Lock()
			ts.refresh[refresh] = user
			ts.mu.Unlock()
		}
		resp["refresh_token"] = refresh
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// tokenError answers a refused token request with an OAuth2 error body.
func tokenError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": msg})
}
