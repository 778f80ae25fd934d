package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/transport"
)

// An escape test writes a path as a template: <repo> marks a repository
// name, {keyword} an endpoint keyword. Its variants are the plain path and
// the path with the first letter of the keywords, of the repository names,
// or of both percent-escaped, as an attacker would send them.

// escapeVariants returns the variants of a path template, by name; a
// template without repository names or keywords has fewer.
func escapeVariants(tmpl string) map[string]string {
	out := map[string]string{"plain": expand(tmpl, false, false)}
	if strings.Contains(tmpl, "{") {
		out["keyword"] = expand(tmpl, true, false)
	}
	if strings.Contains(tmpl, "<") {
		out["repository"] = expand(tmpl, false, true)
	}
	if strings.Contains(tmpl, "{") && strings.Contains(tmpl, "<") {
		out["both"] = expand(tmpl, true, true)
	}
	return out
}

// expand fills a path template, escaping the first letter of keywords
// (upper-case hex) and of repository names (lower-case hex) as asked.
func expand(tmpl string, kw, repo bool) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '{' && c != '<' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(tmpl[i:], map[byte]byte{'{': '}', '<': '>'}[c]) + i
		word := tmpl[i+1 : end]
		switch {
		case c == '{' && kw:
			fmt.Fprintf(&b, "%%%02X%s", word[0], word[1:])
		case c == '<' && repo:
			fmt.Fprintf(&b, "%%%02x%s", word[0], word[1:])
		default:
			b.WriteString(word)
		}
		i = end
	}
	return b.String()
}

// secretState is what the attacks of TestEscapedPathsAuth must not change.
type secretState struct {
	manifest digest.Digest
	tags     string
	blob     bool
	upload   int64 // the size of the open session; -1 if gone
}

func readSecret(t *testing.T, s *Store, uploadID string) secretState {
	t.Helper()
	ctx := t.Context()
	var st secretState
	if d, err := s.HeadManifest(ctx, "secret", "latest"); err == nil {
		st.manifest = d.Digest
	}
	if p, err := s.ListTags(ctx, "secret", transport.PageRequest{}); err == nil {
		st.tags = strings.Join(p.Items, ",")
	}
	_, err := s.StatBlob(ctx, "secret", digest.FromBytes([]byte(`{"seed":"secret"}`)))
	st.blob = err == nil
	st.upload = -1
	if bw, err := s.ResumeUpload(ctx, "secret", uploadID); err == nil {
		st.upload = bw.Size()
	}
	return st
}

// TestEscapedPathsAuth attacks every route of a server with grants, in
// plain and percent-escaped forms, as bob (granted only bobrepo) and as an
// anonymous user (when an anonymous grant exists), with Basic and token
// authentication. Each escaped form must be answered exactly as its plain
// path, and nothing of the repository secret may change.
func TestEscapedPathsAuth(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "alice-pw", "bob": "bob-pw"}
	grants := []ServerOption{
		WithGrant("alice", "secret", "*"),
		WithGrant("bob", "bobrepo", "*"),
		WithGrant("", "public", "pull"),
	}
	// bob's token asks for everything; it grants only what bob may do.
	allScopes := []string{"repository:secret:pull,push,delete", "repository:bobrepo:pull,push,delete", "repository:public:pull", "registry:catalog:*"}
	type who struct {
		name    string
		headers func(t *testing.T, srv *Server) []string
	}
	modes := []struct {
		name string
		auth ServerOption
		who  []who
	}{
		{name: "basic", auth: WithBasicAuth(users), who: []who{
			{"bob", func(*testing.T, *Server) []string { return basicHeader("bob", "bob-pw") }},
			{"anonymous", func(*testing.T, *Server) []string { return nil }},
		}},
		{name: "token", auth: WithTokenAuth(users), who: []who{
			{"bob", func(t *testing.T, srv *Server) []string {
				return []string{"Authorization", "Bearer " + fetchToken(t, srv, "bob", "bob-pw", allScopes...)}
			}},
			{"anonymous", func(t *testing.T, srv *Server) []string {
				q := url.Values{"service": {tokenService}, "scope": allScopes}
				r := regtest.Send(t, http.MethodGet, srv.URL+"/token?"+q.Encode(), nil) // no credentials
				var tok struct{ Token string }
				if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || tok.Token == "" {
					t.Fatalf("anonymous token: %d %s", r.Status, r.Body)
				}
				return []string{"Authorization", "Bearer " + tok.Token}
			}},
		}},
	}
	for _, mode := range modes {
		for _, w := range mode.who {
			t.Run(mode.name+"/"+w.name, func(t *testing.T) {
				t.Parallel()
				srv := Serve(t, append([]ServerOption{mode.auth}, grants...)...)
				desc, _ := pushImage(t, srv.Store, "secret", "secret", "latest")
				cfg := digest.FromBytes([]byte(`{"seed":"secret"}`))
				pushImage(t, srv.Store, "bobrepo", "bob", "v1")
				bw, err := srv.Store.StartUpload(t.Context(), "secret")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := bw.Write([]byte("alice's bytes")); err != nil {
					t.Fatal(err)
				}
				id := bw.ID()
				before := readSecret(t, srv.Store, id)
				evil := manifestJSON(t, ocispec.Manifest{Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfg, Size: 17}})
				hdr := w.headers(t, srv)
				anon := w.name == "anonymous"
				refused := http.StatusForbidden
				if anon || mode.name == "token" {
					refused = http.StatusUnauthorized
				}
				catalog := http.StatusOK // every authenticated user may list the catalog
				if anon {
					catalog = http.StatusUnauthorized
				}
				tests := []struct {
					method, path string
					body         []byte
					want         int
				}{
					{method: "GET", path: "/v2/", want: http.StatusOK},
					{method: "GET", path: "/v2/{_catalog}", want: catalog},
					{method: "GET", path: "/v2/<secret>/{manifests}/latest", want: refused},
					{method: "HEAD", path: "/v2/<secret>/{manifests}/latest", want: refused},
					{method: "PUT", path: "/v2/<secret>/{manifests}/latest", body: evil, want: refused},
					{method: "DELETE", path: "/v2/<secret>/{manifests}/" + desc.Digest.String(), want: refused},
					{method: "GET", path: "/v2/<secret>/{blobs}/" + cfg.String(), want: refused},
					{method: "HEAD", path: "/v2/<secret>/{blobs}/" + cfg.String(), want: refused},
					{method: "DELETE", path: "/v2/<secret>/{blobs}/" + cfg.String(), want: refused},
					{method: "POST", path: "/v2/<secret>/{blobs}/{uploads}/", want: refused},
					{method: "POST", path: "/v2/<secret>/{blobs}/{uploads}", want: refused},
					{method: "POST", path: "/v2/<bobrepo>/{blobs}/{uploads}/?mount=" + cfg.String() + "&from=secret", want: refused},
					{method: "PATCH", path: "/v2/<secret>/{blobs}/{uploads}/" + id, body: []byte("bob's bytes"), want: refused},
					{method: "PUT", path: "/v2/<secret>/{blobs}/{uploads}/" + id + "?digest=" + digest.FromString("alice's bytes").String(), want: refused},
					{method: "GET", path: "/v2/<secret>/{blobs}/{uploads}/" + id, want: refused},
					{method: "DELETE", path: "/v2/<secret>/{blobs}/{uploads}/" + id, want: refused},
					{method: "GET", path: "/v2/<secret>/{tags}/{list}", want: refused},
					{method: "GET", path: "/v2/<secret>/{referrers}/" + desc.Digest.String(), want: refused},
				}
				for _, tc := range tests {
					for variant, path := range escapeVariants(tc.path) {
						r := regtest.Send(t, tc.method, srv.URL+path, tc.body, hdr...)
						if r.Status != tc.want {
							t.Errorf("%s %s (%s) = %d %s, want %d", tc.method, path, variant, r.Status, r.Body, tc.want)
						}
					}
				}
				if after := readSecret(t, srv.Store, id); after != before {
					t.Errorf("secret after the attacks = %+v, want %+v", after, before)
				}
				if _, err := srv.Store.StatBlob(t.Context(), "bobrepo", cfg); err == nil {
					t.Errorf("bob mounted secret's blob into bobrepo")
				}
			})
		}
	}
}

// TestEscapedPathsServed checks that without authentication an escaped
// path is served as its plain form is, and logged with the same route.
func TestEscapedPathsServed(t *testing.T) {
	t.Parallel()
	srv := Serve(t)
	desc, _ := pushImage(t, srv.Store, "app", "app", "latest")
	cfg := digest.FromBytes([]byte(`{"seed":"app"}`))
	pushImage(t, srv.Store, "other", "other", "v1")
	other := digest.FromBytes([]byte(`{"seed":"other"}`))
	tests := []struct {
		method, path string
		want         int
		route        Route
	}{
		{method: "GET", path: "/v2/", want: http.StatusOK, route: RoutePing},
		{method: "GET", path: "/v2/{_catalog}", want: http.StatusOK, route: RouteCatalog},
		{method: "GET", path: "/v2/<app>/{manifests}/latest", want: http.StatusOK, route: RouteManifest},
		{method: "HEAD", path: "/v2/<app>/{manifests}/" + desc.Digest.String(), want: http.StatusOK, route: RouteManifest},
		{method: "GET", path: "/v2/<app>/{blobs}/" + cfg.String(), want: http.StatusOK, route: RouteBlob},
		{method: "HEAD", path: "/v2/<app>/{blobs}/" + cfg.String(), want: http.StatusOK, route: RouteBlob},
		{method: "POST", path: "/v2/<app>/{blobs}/{uploads}/", want: http.StatusAccepted, route: RouteUpload},
		{method: "POST", path: "/v2/<app>/{blobs}/{uploads}/?mount=" + other.String() + "&from=other", want: http.StatusCreated, route: RouteUpload},
		{method: "GET", path: "/v2/<app>/{tags}/{list}", want: http.StatusOK, route: RouteTags},
		{method: "GET", path: "/v2/<app>/{referrers}/" + desc.Digest.String(), want: http.StatusOK, route: RouteReferrers},
		{method: "GET", path: "/v2/<app>/{blobs}/{uploads}/nosuchsession", want: http.StatusNotFound, route: RouteUpload},
		{method: "GET", path: "/v2/<app>/@other/thing", want: http.StatusNotFound, route: ""},
	}
	for _, tc := range tests {
		plain := regtest.Send(t, tc.method, srv.URL+expand(tc.path, false, false), nil)
		for variant, path := range escapeVariants(tc.path) {
			srv.ResetRequests()
			r := regtest.Send(t, tc.method, srv.URL+path, nil)
			waitLog(t, srv, 1)
			if r.Status != tc.want || (tc.method == "GET" && tc.want == http.StatusOK && r.Body != plain.Body) {
				t.Errorf("%s %s (%s) = %d %.80q, want %d %.80q", tc.method, path, variant, r.Status, r.Body, tc.want, plain.Body)
			}
			if log := srv.Requests(); len(log) != 1 || log[0].Route != tc.route {
				t.Errorf("%s %s (%s): log %+v, want one request of route %q", tc.method, path, variant, log, tc.route)
			}
		}
	}
	// Writes: each escaped form changes the store as the plain one does.
	for variant, path := range escapeVariants("/v2/<app>/{manifests}/") {
		_, body := pushImage(t, srv.Store, "app", variant, "")
		r := regtest.Send(t, http.MethodPut, srv.URL+path+"v-"+variant, body, "Content-Type", ocispec.MediaTypeImageManifest)
		if _, err := srv.Store.HeadManifest(t.Context(), "app", "v-"+variant); r.Status != http.StatusCreated || err != nil {
			t.Errorf("PUT %s (%s) = %d %s; stored: %v", path, variant, r.Status, r.Body, err)
		}
	}
}

// TestEscapedPathsFaultsAndProfiles checks that faults and profiles apply
// to escaped paths as they do to plain ones.
func TestEscapedPathsFaultsAndProfiles(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "pw"}
	tests := []struct {
		name         string
		opts         []ServerOption
		method, path string
		headers      []string
		want         int
		check        func(r regtest.Reply) string // "" when r is as expected
	}{
		{name: "fault on a manifest GET in one repository", opts: []ServerOption{WithFaults(FailWith(503).On("GET", RouteManifest).In("app"))},
			method: "GET", path: "/v2/<app>/{manifests}/latest", want: http.StatusServiceUnavailable},
		{name: "fault on blob HEADs", opts: []ServerOption{WithFaults(FailWith(429).On("HEAD", RouteBlob))},
			method: "HEAD", path: "/v2/<app>/{blobs}/@cfg", want: http.StatusTooManyRequests},
		{name: "fault on uploads", opts: []ServerOption{WithFaults(FailWith(500).On("POST", RouteUpload))},
			method: "POST", path: "/v2/<app>/{blobs}/{uploads}/", want: http.StatusInternalServerError},
		{name: "fault on the catalog", opts: []ServerOption{WithFaults(FailWith(502).On("", RouteCatalog))},
			method: "GET", path: "/v2/{_catalog}", want: http.StatusBadGateway},
		{name: "GHCR has no referrers API", opts: []ServerOption{WithProfile(ProfileGHCR)},
			method: "GET", path: "/v2/<app>/{referrers}/@manifest", want: http.StatusNotFound,
			check: func(r regtest.Reply) string {
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					return "Content-Type " + ct + ", want text/plain"
				}
				return ""
			}},
		{name: "S3 redirects blob GETs", opts: []ServerOption{WithProfile(ProfileS3)},
			method: "GET", path: "/v2/<app>/{blobs}/@cfg", want: http.StatusTemporaryRedirect},
		{name: "ECR caps tag pages", opts: []ServerOption{WithProfile(ProfileECR)},
			method: "GET", path: "/v2/<app>/{tags}/{list}?n=5000", want: http.StatusOK,
			check: func(r regtest.Reply) string {
				var list struct{ Tags []string }
				if err := json.Unmarshal([]byte(r.Body), &list); err != nil || len(list.Tags) != ecrMaxTags {
					return fmt.Sprintf("%d tags (%v), want %d", len(list.Tags), err, ecrMaxTags)
				}
				return ""
			}},
		{name: "Harbor refuses cross-repository mounts", opts: []ServerOption{WithProfile(ProfileHarbor)},
			method: "POST", path: "/v2/<app>/{blobs}/{uploads}/?mount=@cfg&from=other", want: http.StatusUnauthorized},
		{name: "Docker Hub opens a session for a mount it may not pull", opts: []ServerOption{WithProfile(ProfileDockerHub), WithBasicAuth(users), WithGrant("alice", "app", "*")},
			method: "POST", path: "/v2/<app>/{blobs}/{uploads}/?mount=@other&from=other", headers: basicHeader("alice", "pw"), want: http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Serve(t, tc.opts...)
			desc, _ := pushImage(t, srv.Store, "app", "app", "latest")
			pushImage(t, srv.Store, "other", "other", "v1")
			if strings.Contains(tc.name, "ECR") {
				_, body := pushImage(t, srv.Store, "app", "app", "")
				for i := range ecrMaxTags + 1 {
					if _, err := srv.Store.PutManifest(t.Context(), "app", fmt.Sprint("t", i), ocispec.MediaTypeImageManifest, body, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			fill := strings.NewReplacer("@cfg", digest.FromBytes([]byte(`{"seed":"app"}`)).String(),
				"@other", digest.FromBytes([]byte(`{"seed":"other"}`)).String(), "@manifest", desc.Digest.String())
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for variant, path := range escapeVariants(tc.path) {
				path = fill.Replace(path)
				req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i+1 < len(tc.headers); i += 2 {
					req.Header.Set(tc.headers[i], tc.headers[i+1])
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				r := regtest.Reply{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
				if r.Status != tc.want {
					t.Errorf("%s %s (%s) = %d %.100s, want %d", tc.method, path, variant, r.Status, r.Body, tc.want)
					continue
				}
				if tc.check != nil {
					if msg := tc.check(r); msg != "" {
						t.Errorf("%s %s (%s): %s", tc.method, path, variant, msg)
					}
				}
			}
		})
	}
}
