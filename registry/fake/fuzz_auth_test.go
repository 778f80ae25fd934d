package fake

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// The grants of FuzzAuthRoute's servers, and the oracle that reads them
// without the server's code: may user do action on repo?
var fuzzGrants = []struct {
	user, repo string // repo ends in "*" for a prefix
	actions    []string
}{
	{"alice", "secret", []string{"pull", "push", "delete"}},
	{"bob", "bobrepo", []string{"pull", "push", "delete"}},
	{"bob", "team/*", []string{"pull"}},
	{"", "public", []string{"pull"}},
}

func fuzzAllowed(user, action, repo string) bool {
	if action == "catalog" {
		return user != ""
	}
	for _, g := range fuzzGrants {
		match := g.repo == repo
		if p, ok := strings.CutSuffix(g.repo, "*"); ok {
			match = strings.HasPrefix(repo, p)
		}
		if match && (g.user == "" || g.user == user) && slices.Contains(g.actions, action) {
			return true
		}
	}
	return false
}

// served is what the API handler did for one request: the actions it took
// on the store, as "action repo".
type served struct {
	method string
	calls  []string
}

type servedKey struct{}

// recorder is the store behind FuzzAuthRoute's handler: it records every
// repository action in the served of the request's context. It implements
// the Transport by hand, so that a method the handler may call cannot slip
// past it unrecorded.
type recorder struct{ s *Store }

var _ transport.Transport = (*recorder)(nil)

func (r *recorder) note(ctx context.Context, action, repo string) {
	if sv, ok := ctx.Value(servedKey{}).(*served); ok {
		sv.calls = append(sv.calls, action+" "+repo)
	}
}

func (r *recorder) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	r.note(ctx, "pull", repo)
	return r.s.GetManifest(ctx, repo, ref)
}

func (r *recorder) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	r.note(ctx, "pull", repo)
	return r.s.HeadManifest(ctx, repo, ref)
}

func (r *recorder) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	r.note(ctx, "push", repo)
	return r.s.PutManifest(ctx, repo, ref, mediaType, body, opts)
}

func (r *recorder) DeleteManifest(ctx context.Context, repo, ref string) error {
	r.note(ctx, "delete", repo)
	return r.s.DeleteManifest(ctx, repo, ref)
}

func (r *recorder) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	r.note(ctx, "pull", repo)
	return r.s.StatBlob(ctx, repo, d)
}

func (r *recorder) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	r.note(ctx, "pull", repo)
	return r.s.GetBlob(ctx, repo, d)
}

func (r *recorder) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, rd io.Reader) error {
	r.note(ctx, "push", repo)
	return r.s.PutBlob(ctx, repo, desc, rd)
}

func (r *recorder) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	r.note(ctx, "push", repo)
	r.note(ctx, "pull", from)
	return r.s.MountBlob(ctx, repo, from, d)
}

func (r *recorder) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	r.note(ctx, "delete", repo)
	return r.s.DeleteBlob(ctx, repo, d)
}

func (r *recorder) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	r.note(ctx, "push", repo)
	return r.s.StartUpload(ctx, repo)
}

// ResumeUpload is a status check, a chunk, the close or the cancel of a
// session: the action is the request method's.
func (r *recorder) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	action := "push"
	if sv, ok := ctx.Value(servedKey{}).(*served); ok {
		switch sv.method {
		case http.MethodGet, http.MethodHead:
			action = "pull"
		case http.MethodDelete:
			action = "delete"
		}
	}
	r.note(ctx, action, repo)
	return r.s.ResumeUpload(ctx, repo, id)
}

func (r *recorder) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	r.note(ctx, "pull", repo)
	return r.s.ListTags(ctx, repo, req)
}

func (r *recorder) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	r.note(ctx, "catalog", "")
	return r.s.ListRepositories(ctx, req)
}

func (r *recorder) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	r.note(ctx, "pull", repo)
	return r.s.ListReferrers(ctx, repo, subject, artifactType, req)
}

// fuzzEnv is FuzzAuthRoute's two servers, Basic and token (with the
// profiles whose quirks touch authorization), their identities and the
// secret they guard.
type fuzzEnv struct {
	basic, token *Server
	who          []fuzzWho
	vars         map[*Server]*strings.Replacer // fills @upload, @cfg, @manifest, @bobcfg
	uploadID     map[*Server]string            // the session of secret
}

// fuzzWho is who sends a request, to which server.
type fuzzWho struct {
	name   string
	srv    *Server
	header string // Authorization
	user   string // the user the oracle checks; "" for anonymous
}

func newFuzzEnv(t *testing.T) *fuzzEnv {
	users := map[string]string{"alice": "alice-pw", "bob": "bob-pw"}
	var opts []ServerOption
	for _, g := range fuzzGrants {
		opts = append(opts, WithGrant(g.user, g.repo, g.actions...))
	}
	e := &fuzzEnv{
		basic: NewServer(append(opts, WithBasicAuth(users))...),
		token: NewServer(append(opts, WithTokenAuth(users), WithProfile(ProfileDockerHub, ProfileECR, ProfileGHCR))...),
	}
	e.vars, e.uploadID = map[*Server]*strings.Replacer{}, map[*Server]string{}
	for _, s := range []*Server{e.basic, e.token} {
		s.handler = server.NewHandler(&recorder{s: s.Store})
		desc, _ := pushImage(t, s.Store, "secret", "secret", "latest")
		pushImage(t, s.Store, "bobrepo", "bob", "v1")
		pushImage(t, s.Store, "public", "public", "v1")
		bw, err := s.Store.StartUpload(t.Context(), "secret")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bw.Write([]byte("alice's bytes")); err != nil {
			t.Fatal(err)
		}
		e.uploadID[s] = bw.ID()
		e.vars[s] = strings.NewReplacer("@upload", bw.ID(), "@manifest", desc.Digest.String(),
			"@cfg", digest.FromBytes([]byte(`{"seed":"secret"}`)).String(),
			"@bobcfg", digest.FromBytes([]byte(`{"seed":"bob"}`)).String())
	}
	scopes := url.Values{"service": {tokenService}, "scope": {
		"repository:secret:pull,push,delete", "repository:bobrepo:pull,push,delete",
		"repository:public:pull", "repository:team/app:pull", "registry:catalog:*"}}
	basicAuth := func(user, pw string) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth(user, pw)
		return r.Header.Get("Authorization")
	}
	token := func(header string) string {
		r := httptest.NewRequest(http.MethodGet, "/token?"+scopes.Encode(), nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		e.token.serveHTTP(w, r)
		var tok struct{ Token string }
		if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.Token == "" {
			t.Fatalf("token: %d %s", w.Code, w.Body)
		}
		return "Bearer " + tok.Token
	}
	e.who = []fuzzWho{
		{name: "anonymous (basic)", srv: e.basic},
		{name: "bob (basic)", srv: e.basic, header: basicAuth("bob", "bob-pw"), user: "bob"},
		{name: "bob with a wrong password", srv: e.basic, header: basicAuth("bob", "alice-pw")},
		{name: "anonymous token", srv: e.token, header: token("")},
		{name: "bob's token", srv: e.token, header: token(basicAuth("bob", "bob-pw")), user: "bob"},
		{name: "anonymous (token)", srv: e.token},
	}
	return e
}

// FuzzAuthRoute is a differential check of the fake's authorization
// against what its API handler serves: for any method, path, query and
// body, sent by any of bob (granted bobrepo and pull on team/*), an
// anonymous user (granted pull on public) or a wrong password, over Basic
// or token authentication, every action the handler takes on the store is
// one the sender's grants permit, and the repository secret (alice's)
// never changes. Its seeds are every route in plain and percent-escaped
// forms.
func FuzzAuthRoute(f *testing.F) {
	for _, tmpl := range []struct{ method, path string }{
		{"GET", "/v2/"}, {"GET", "/v2/{_catalog}"},
		{"GET", "/v2/<secret>/{manifests}/latest"}, {"HEAD", "/v2/<secret>/{manifests}/latest"},
		{"PUT", "/v2/<secret>/{manifests}/latest"}, {"DELETE", "/v2/<secret>/{manifests}/@manifest"},
		{"GET", "/v2/<secret>/{blobs}/@cfg"}, {"HEAD", "/v2/<secret>/{blobs}/@cfg"}, {"DELETE", "/v2/<secret>/{blobs}/@cfg"},
		{"POST", "/v2/<secret>/{blobs}/{uploads}/"}, {"POST", "/v2/<bobrepo>/{blobs}/{uploads}/?mount=@cfg&from=secret"},
		{"PATCH", "/v2/<secret>/{blobs}/{uploads}/@upload"}, {"PUT", "/v2/<secret>/{blobs}/{uploads}/@upload?digest=@cfg"},
		{"GET", "/v2/<secret>/{blobs}/{uploads}/@upload"}, {"DELETE", "/v2/<secret>/{blobs}/{uploads}/@upload"},
		{"GET", "/v2/<secret>/{tags}/{list}"}, {"GET", "/v2/<secret>/{referrers}/@manifest"},
		{"GET", "/v2/<bobrepo>/{manifests}/v1"}, {"POST", "/v2/<bobrepo>/{blobs}/{uploads}/?mount=@bobcfg&from=bobrepo"},
	} {
		for _, p := range escapeVariants(tmpl.path) {
			for who := range 6 {
				f.Add(uint8(who), tmpl.method, p, "x")
			}
		}
	}
	var env *fuzzEnv
	f.Cleanup(func() {
		if env != nil {
			env.basic.Close()
			env.token.Close()
		}
	})
	f.Fuzz(func(t *testing.T, who uint8, method, target, body string) {
		if env == nil {
			env = newFuzzEnv(t)
		}
		w := env.who[int(who)%len(env.who)]
		target = env.vars[w.srv].Replace(target)
		raw := method + " " + target + " HTTP/1.1\r\nHost: fake\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
		if w.header != "" {
			raw += "Authorization: " + w.header + "\r\n"
		}
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n" + body)))
		if err != nil || !strings.HasPrefix(target, "/") {
			t.Skip()
		}
		sv := &served{method: r.Method}
		r = r.WithContext(context.WithValue(r.Context(), servedKey{}, sv))
		before := readSecret(t, w.srv.Store, env.uploadID[w.srv])
		rec := httptest.NewRecorder()
		w.srv.serveHTTP(rec, r)
		w.srv.ResetRequests()
		for _, c := range sv.calls {
			action, repo, _ := strings.Cut(c, " ")
			if !fuzzAllowed(w.user, action, repo) {
				t.Fatalf("%s: %s %q = %d, and the handler did %q: not granted (all: %q)", w.name, method, target, rec.Code, c, sv.calls)
			}
		}
		if after := readSecret(t, w.srv.Store, env.uploadID[w.srv]); after != before {
			t.Fatalf("%s: %s %q = %d changed secret: %+v, was %+v", w.name, method, target, rec.Code, after, before)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s: %s %q = %d %s", w.name, method, target, rec.Code, rec.Body)
		}
	})
}
