package fake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/internal/regtest"
)

// putTestBlob stores data in repo of srv's store and returns its digest.
func putTestBlob(t *testing.T, srv *Server, repo string, data []byte) digest.Digest {
	t.Helper()
	d := digest.FromBytes(data)
	if err := srv.Store.PutBlob(t.Context(), repo, ocispec.Descriptor{Digest: d, Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return d
}

// fetchToken gets a token for scopes from srv's token endpoint as user.
func fetchToken(t *testing.T, srv *Server, user, password string, scopes ...string) string {
	t.Helper()
	q := url.Values{"service": {tokenService}, "scope": scopes}
	r := regtest.Send(t, http.MethodGet, srv.URL+"/token?"+q.Encode(), nil, basicHeader(user, password)...)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(r.Body), &tok); err != nil || tok.Token == "" {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	return tok.Token
}

// TestProfileDockerHubMount checks that a mount from a repository the
// request may not pull opens an upload session instead (202), with Basic
// and with token authentication, and that without the profile the same
// request is refused.
func TestProfileDockerHubMount(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "pw"}
	grants := []ServerOption{WithGrant("alice", "team/*", "pull", "push"), WithGrant("alice", "open", "pull")}
	tests := []struct {
		name    string
		opts    []ServerOption
		from    string
		headers func(srv *Server) []string
		want    int
	}{
		{name: "basic, may pull", opts: []ServerOption{WithBasicAuth(users)}, from: "open",
			headers: func(*Server) []string { return basicHeader("alice", "pw") }, want: http.StatusCreated},
		{name: "basic, may not pull", opts: []ServerOption{WithBasicAuth(users)}, from: "secret",
			headers: func(*Server) []string { return basicHeader("alice", "pw") }, want: http.StatusAccepted},
		{name: "token with pull on the source", opts: []ServerOption{WithTokenAuth(users)}, from: "open",
			headers: func(srv *Server) []string {
				return []string{"Authorization", "Bearer " + fetchToken(t, srv, "alice", "pw", "repository:team/dst:pull,push", "repository:open:pull")}
			}, want: http.StatusCreated},
		{name: "token without pull on the source", opts: []ServerOption{WithTokenAuth(users)}, from: "open",
			headers: func(srv *Server) []string {
				return []string{"Authorization", "Bearer " + fetchToken(t, srv, "alice", "pw", "repository:team/dst:pull,push")}
			}, want: http.StatusAccepted},
		{name: "no token", opts: []ServerOption{WithTokenAuth(users)}, from: "open",
			headers: func(*Server) []string { return nil }, want: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Serve(t, append(append(tc.opts, grants...), WithProfile(ProfileDockerHub))...)
			d := putTestBlob(t, srv, tc.from, []byte("mounted"))
			u := srv.URL + "/v2/team/dst/blobs/uploads/?mount=" + d.String() + "&from=" + tc.from
			r := regtest.Send(t, http.MethodPost, u, nil, tc.headers(srv)...)
			if r.Status != tc.want {
				t.Fatalf("POST mount = %d %s, want %d", r.Status, r.Body, tc.want)
			}
			_, err := srv.Store.StatBlob(t.Context(), "team/dst", d)
			if mounted := err == nil; mounted != (tc.want == http.StatusCreated) {
				t.Errorf("after a %d, the blob is in the target: %v", r.Status, mounted)
			}
			if ch := r.Header.Get("WWW-Authenticate"); tc.want == http.StatusUnauthorized && strings.Contains(ch, tc.from) {
				t.Errorf("challenge %q names the source; Docker Hub's names the target only", ch)
			}
			if tc.want == http.StatusAccepted && !strings.HasPrefix(r.Header.Get("Location"), "/v2/team/dst/blobs/uploads/") {
				t.Errorf("202 Location = %q, want an upload session of team/dst", r.Header.Get("Location"))
			}
		})
	}

	// Without the profile, the mount without pull on the source is refused.
	srv := Serve(t, append(grants, WithBasicAuth(users))...)
	d := putTestBlob(t, srv, "secret", []byte("mounted"))
	r := regtest.Send(t, http.MethodPost, srv.URL+"/v2/team/dst/blobs/uploads/?mount="+d.String()+"&from=secret", nil, basicHeader("alice", "pw")...)
	if r.Status != http.StatusForbidden {
		t.Errorf("POST mount without the profile = %d, want 403", r.Status)
	}
}

// TestProfileHarborMount checks the 401 of a cross-repository mount and
// its challenge, and that a mount from the same repository works.
func TestProfileHarborMount(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "pw"}
	tests := []struct {
		name      string
		opts      []ServerOption
		headers   func(srv *Server) []string
		challenge string // prefix of WWW-Authenticate
	}{
		{name: "no auth", headers: func(*Server) []string { return nil }},
		{name: "basic", opts: []ServerOption{WithBasicAuth(users)},
			headers: func(*Server) []string { return basicHeader("alice", "pw") }, challenge: "Basic "},
		{name: "token", opts: []ServerOption{WithTokenAuth(users)},
			headers: func(srv *Server) []string {
				return []string{"Authorization", "Bearer " + fetchToken(t, srv, "alice", "pw", "repository:dst:pull,push", "repository:src:pull,push")}
			}, challenge: "Bearer "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Serve(t, append(tc.opts, WithProfile(ProfileHarbor))...)
			d := putTestBlob(t, srv, "src", []byte("mounted"))
			r := regtest.Send(t, http.MethodPost, srv.URL+"/v2/dst/blobs/uploads/?mount="+d.String()+"&from=src", nil, tc.headers(srv)...)
			if r.Status != http.StatusUnauthorized || errorCode(t, r.Body) != "UNAUTHORIZED" {
				t.Errorf("POST mount = %d %s, want 401 UNAUTHORIZED", r.Status, r.Body)
			}
			if ch := r.Header.Get("WWW-Authenticate"); (tc.challenge == "") != (ch == "") || !strings.HasPrefix(ch, tc.challenge) {
				t.Errorf("challenge = %q, want one starting %q", ch, tc.challenge)
			}
			r = regtest.Send(t, http.MethodPost, srv.URL+"/v2/src/blobs/uploads/?mount="+d.String()+"&from=src", nil, tc.headers(srv)...)
			if r.Status != http.StatusCreated {
				t.Errorf("POST mount from the same repository = %d %s, want 201", r.Status, r.Body)
			}
		})
	}
}

// TestProfileS3BlobHost checks what the blob host refuses, and that the
// registry redirects only GETs of blobs the repository holds.
func TestProfileS3BlobHost(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := Serve(t, WithProfile(ProfileS3), withClock(clock))
	d := putTestBlob(t, srv, "app", []byte("on the blob host"))
	gone := putTestBlob(t, srv, "app", []byte("deleted after signing"))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	location := func(d digest.Digest) string {
		t.Helper()
		resp, err := noRedirect.Get(srv.URL + "/v2/app/blobs/" + d.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("GET blob = %d, want 307", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	loc, goneLoc := location(d), location(gone)
	if err := srv.Store.DeleteBlob(t.Context(), "app", gone); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Scheme + "://" + u.Host
	tampered := strings.Replace(loc, "X-Amz-Expires=900", "X-Amz-Expires=9000", 1)

	tests := []struct {
		name    string
		method  string
		url     string
		headers []string
		advance time.Duration
		status  int
		s3Code  string
	}{
		{name: "signed", method: "GET", url: loc, status: 200},
		{name: "HEAD signed", method: "HEAD", url: loc, status: 200},
		{name: "with Authorization", method: "GET", url: loc, headers: []string{"Authorization", "Bearer x"}, status: 400, s3Code: "InvalidArgument"},
		{name: "tampered", method: "GET", url: tampered, status: 403, s3Code: "SignatureDoesNotMatch"},
		{name: "unsigned", method: "GET", url: strings.Split(loc, "?")[0], status: 403, s3Code: "SignatureDoesNotMatch"},
		{name: "POST", method: "POST", url: loc, status: 405, s3Code: "MethodNotAllowed"},
		{name: "not a blob path", method: "GET", url: host + "/" + blobBucket + "/nodigest", status: 404, s3Code: "NoSuchKey"},
		{name: "deleted blob", method: "GET", url: goneLoc, status: 404, s3Code: "NoSuchKey"},
		{name: "registry: unknown blob", method: "GET", url: srv.URL + "/v2/app/blobs/" + digest.FromString("none").String(), status: 404},
		{name: "registry: bad digest", method: "GET", url: srv.URL + "/v2/app/blobs/sha256:nothex", status: 400},
		{name: "registry: HEAD", method: "HEAD", url: srv.URL + "/v2/app/blobs/" + d.String(), status: 200},
		{name: "expired", method: "GET", url: loc, advance: blobURLTTL, status: 403, s3Code: "AccessDenied"},
	}
	for _, tc := range tests { // in order: the last one moves the clock
		clock.Advance(tc.advance)
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, tc.url, nil)
		for i := 0; i+1 < len(tc.headers); i += 2 {
			req.Header.Set(tc.headers[i], tc.headers[i+1])
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var e struct{ Code string }
		if tc.s3Code != "" {
			if err := xmlDecode(resp, &e); err != nil {
				t.Errorf("%s: S3 error body: %v", tc.name, err)
			}
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || e.Code != tc.s3Code {
			t.Errorf("%s: %s = %d %s, want %d %s", tc.name, tc.method, resp.StatusCode, e.Code, tc.status, tc.s3Code)
		}
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/"+blobBucket+"/") && r.Route != RouteBlobHost {
			t.Errorf("blob host request %s logged with route %q", r.Path, r.Route)
		}
	}
}

func TestWithProfileUnknown(t *testing.T) {
	t.Parallel()
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "unknown profile Profile(10)") {
			t.Errorf("NewServer(WithProfile(10)) panicked with %q, want an unknown profile", msg)
		}
	}()
	NewServer(WithProfile(Profile(10))).Close()
}

func TestProfileString(t *testing.T) {
	t.Parallel()
	for p, want := range map[Profile]string{ProfileECR: "ECR", ProfileGHCR: "GHCR", ProfileDockerHub: "DockerHub", ProfileHarbor: "Harbor", ProfileS3: "S3", ProfileNoLink: "NoLink", 0: "Profile(0)"} {
		if got := p.String(); got != want {
			t.Errorf("Profile(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}

// xmlDecode decodes the XML body of resp into v.
func xmlDecode(resp *http.Response, v any) error {
	return xml.NewDecoder(resp.Body).Decode(v)
}
