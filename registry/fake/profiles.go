package fake

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/regkit/regkit/internal/route"
	"github.com/regkit/regkit/transport"
)

// Profile makes a [Server] behave like a real registry service where it
// departs from the plain OCI distribution API in ways clients trip over,
// so that a test can show a client copes with it. Each profile is one
// service's quirk; [WithProfile] combines them.
type Profile int

// The profiles.
const (
	// ProfileECR caps tag list pages at 1000 tags, as Amazon ECR does: a
	// GET /v2/<name>/tags/list without n=, or with a larger one, gets at
	// most 1000 tags and a Link to the rest. ECR also serves blobs from S3:
	// add [ProfileS3] for that.
	ProfileECR Profile = iota + 1

	// ProfileGHCR has no referrers API, as GitHub's registry: GET
	// /v2/<name>/referrers/<digest> answers 404 with a plain-text body, as
	// a router without the route does, and a manifest with a subject is
	// stored without the OCI-Subject header in the answer, so clients keep
	// the referrers index under the subject's fallback tag themselves.
	ProfileGHCR

	// ProfileDockerHub mounts a blob across repositories only when the
	// request may pull the repository it mounts from, as Docker Hub does.
	// With authentication, a mount is authorized as a plain upload to the
	// target (so the challenge names the target only), and the mount is
	// done (201) when the token or user also grants pull on the source;
	// otherwise the server opens an upload session instead (202), which the
	// client must fill. Without authentication, mounts work as usual.
	ProfileDockerHub

	// ProfileHarbor refuses cross-repository mounts with 401 UNAUTHORIZED,
	// as Harbor does across projects: a POST
	// /v2/<name>/blobs/uploads/?mount=<digest>&from=<other> gets 401, after
	// authentication if any, with the server's challenge (none without
	// authentication). A mount from the same repository works.
	ProfileHarbor

	// ProfileS3 serves blobs from object storage, as ECR (S3), Docker Hub
	// and GHCR (CDNs) do: GET /v2/<name>/blobs/<digest> of a blob the
	// repository holds answers 307 with a Location on a second loopback
	// server (the blob host), signed in its query as an S3 presigned URL
	// (valid 15 minutes). The blob host serves the bytes, with ranges, only
	// to requests that carry the signature and no Authorization header: it
	// answers 400 InvalidArgument to one with credentials, as S3 does, 403
	// to a bad or expired signature. Its requests are in the request log
	// with the route [RouteBlobHost], and faults apply to them. HEAD is
	// answered by the registry itself.
	ProfileS3

	// ProfileNoLink pages tag lists and the catalog by n= and last= but
	// sends no Link header, even when more entries follow a full page, as
	// Sonatype Nexus does through a docker group repository (NEXUS-35956,
	// sonatype/nexus-public#117 and #209). A client that waits for a Link
	// lists the first page only.
	ProfileNoLink
	// ProfileSerial serves one request at a time, as small registries and
	// test registries built on a single lock or thread do: a request waits
	// until each one before it has been read, its body included, and
	// answered up to its response headers; a response body streams without
	// holding the others up. A client that sends a request whose body it
	// fills from another request to the same server, sent only once the
	// body is read (a blob streamed between two repositories), waits
	// forever on such a registry. It applies to the registry, not to the
	// blob host of [ProfileS3].
	ProfileSerial
	// ProfileNoMount does not implement blob mounts, as registries without
	// cross-repository mount support do: a POST
	// /v2/<name>/blobs/uploads/?mount=<digest>&from=<repository> opens a
	// new upload session (202), from any repository, the target itself
	// included, whether or not either holds the blob. A client that reads
	// that 202 as "the repository lacks the blob" uploads blobs the
	// registry already has.
	ProfileNoMount
	// ProfileNoIfMatch ignores the If-Match and If-None-Match headers of a
	// manifest PUT, as the distribution registry does: a conditional put
	// under a tag is stored whatever the tag points at. A client that
	// relies on the answer 412 to guard a read-modify-write of a tag (the
	// referrers fallback index) overwrites concurrent writers. Add
	// [ProfileGHCR] for a registry that also lacks the referrers API.
	ProfileNoIfMatch
)

// String returns the profile's name, "ECR" for ProfileECR.
func (p Profile) String() string {
	switch p {
	case ProfileECR:
		return "ECR"
	case ProfileGHCR:
		return "GHCR"
	case ProfileDockerHub:
		return "DockerHub"
	case ProfileHarbor:
		return "Harbor"
	case ProfileS3:
		return "S3"
	case ProfileNoLink:
		return "NoLink"
	case ProfileSerial:
		return "Serial"
	case ProfileNoMount:
		return "NoMount"
	case ProfileNoIfMatch:
		return "NoIfMatch"
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// WithProfile gives the server the quirks of the profiles, which combine:
//
//	srv := fake.Serve(t, fake.WithProfile(fake.ProfileECR, fake.ProfileS3))
//
// It panics, when the server is made, on an unknown profile.
func WithProfile(profiles ...Profile) ServerOption {
	return func(c *serverConfig) {
		for _, p := range profiles {
			if p < ProfileECR || p > ProfileNoIfMatch {
				c.conflicts = append(c.conflicts, fmt.Sprintf("WithProfile: unknown profile %v", p))
				continue
			}
			c.profiles |= 1 << p
		}
	}
}

// profileSet is a set of profiles, one bit each.
type profileSet uint

func (ps profileSet) has(p Profile) bool { return ps&(1<<p) != 0 }

// ecrMaxTags is the largest tag page of ProfileECR.
const ecrMaxTags = 1000

// crossMount returns the repository a request to t mounts a blob from, if
// it is a cross-repository mount: a POST to start an upload with a mount=
// (whatever its value, as the handler reads it) and a from= other than
// the target repository.
func crossMount(r *http.Request, t route.Target) (from string, ok bool) {
	if r.Method != http.MethodPost || t.Kind != route.UploadStart {
		return "", false
	}
	q := r.URL.Query()
	from = q.Get("from")
	return from, q.Has("mount") && from != "" && from != t.Name
}

// withQuery returns a shallow copy of r with its query changed by edit.
func withQuery(r *http.Request, edit func(q url.Values)) *http.Request {
	r2 := r.WithContext(r.Context())
	u := *r.URL
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	r2.URL = &u
	return r2
}

// authorize checks r, which names t, with the server's authentication,
// which refuses it itself when it must. Under ProfileDockerHub, a
// cross-repository mount is authorized as the plain upload it becomes when
// the source may not be pulled; that request is returned instead of r then.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, t route.Target) (*http.Request, string, bool) {
	from, mount := crossMount(r, t)
	if !s.profile.has(ProfileDockerHub) || !mount {
		user, ok := s.auth.authorize(w, r, t)
		return r, user, ok
	}
	upload := withQuery(r, func(q url.Values) { q.Del("mount"); q.Del("from") })
	user, ok := s.auth.authorize(w, upload, t)
	if !ok || !s.auth.mayPull(r, user, from) {
		return upload, user, ok
	}
	return r, user, true
}

// mayPull reports whether r, authorized as user, may pull repo: by the
// grants of user with Basic authentication, by the claims of its token
// with token authentication.
func (a *authenticator) mayPull(r *http.Request, user, repo string) bool {
	acc := access{typ: "repository", name: repo, action: actionPull}
	if a.mode == authBasic {
		return a.permits(user, user != "", acc)
	}
	_, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	c, err := a.verify(raw, tokenUseAccess)
	return err == nil && c.grants(acc)
}

// serveProfiled serves an authorized request with the quirks of the
// server's profiles, through the API handler unless a quirk answers it
// (which it records in x).
func (s *Server) serveProfiled(w http.ResponseWriter, r *http.Request, x *exchange) {
	t, rt := x.tg.api, x.tg.rt
	if s.profile == 0 {
		s.handler.ServeHTTP(w, r)
		return
	}
	if (rt == RouteTags || rt == RouteCatalog) && s.profile.has(ProfileNoLink) {
		w = &noLinkWriter{ResponseWriter: w}
	}
	if r.Method == http.MethodPut && rt == RouteManifest && s.profile.has(ProfileNoIfMatch) {
		r = r.Clone(r.Context())
		r.Header.Del("If-Match")
		r.Header.Del("If-None-Match")
	}
	if r.Method == http.MethodPost && t.Kind == route.UploadStart && s.profile.has(ProfileNoMount) {
		r = withQuery(r, func(q url.Values) { q.Del("mount"); q.Del("from") })
	}
	if _, ok := crossMount(r, t); ok && s.profile.has(ProfileHarbor) {
		s.refuseMount(w, r, t.Name)
		x.self = true
		return
	}
	switch {
	case rt == RouteReferrers && s.profile.has(ProfileGHCR):
		http.NotFound(w, r)
		x.self = true
		return
	case rt == RouteBlob && r.Method == http.MethodGet && s.blobs != nil:
		if s.blobs.redirect(w, r, t) {
			x.self = true
			return
		}
	case rt == RouteTags && s.profile.has(ProfileECR):
		r = capTags(r)
	case rt == RouteManifest && r.Method == http.MethodPut && s.profile.has(ProfileGHCR):
		w = &noSubjectWriter{ResponseWriter: w}
	}
	s.handler.ServeHTTP(w, r)
}

// refuseMount answers a cross-repository mount with 401, and the server's
// challenge for the upload.
func (s *Server) refuseMount(w http.ResponseWriter, r *http.Request, name string) {
	e := &transport.Error{Code: transport.CodeUnauthorized, Message: "cross-repository mounts are not allowed"}
	if s.auth == nil {
		writeError(w, r, http.StatusUnauthorized, e)
		return
	}
	needs := []access{{typ: "repository", name: name, action: actionPull}, {typ: "repository", name: name, action: actionPush}}
	if s.auth.mode == authBasic {
		s.auth.challengeBasic(w, r, e.Message, needs)
		return
	}
	s.auth.challengeBearer(w, r, "", e.Message, needs)
}

// capTags returns r with its page size capped at ecrMaxTags.
func capTags(r *http.Request) *http.Request {
	q := r.URL.Query()
	if q.Has("n") {
		if n, err := strconv.Atoi(q.Get("n")); err != nil || n <= ecrMaxTags {
			return r // the handler refuses a bad n; n=0 asks for an empty list
		}
	}
	return withQuery(r, func(q url.Values) { q.Set("n", strconv.Itoa(ecrMaxTags)) })
}

// noSubjectWriter drops the OCI-Subject header of a response.
type noSubjectWriter struct {
	http.ResponseWriter
}

func (w *noSubjectWriter) WriteHeader(code int) {
	w.Header().Del("OCI-Subject")
	w.ResponseWriter.WriteHeader(code)
}

func (w *noSubjectWriter) Write(p []byte) (int, error) {
	w.Header().Del("OCI-Subject")
	return w.ResponseWriter.Write(p)
}

// Unwrap gives [http.ResponseController] the underlying writer.
func (w *noSubjectWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// noLinkWriter drops the Link header of a response.
type noLinkWriter struct {
	http.ResponseWriter
}

func (w *noLinkWriter) WriteHeader(code int) {
	w.Header().Del("Link")
	w.ResponseWriter.WriteHeader(code)
}

func (w *noLinkWriter) Write(p []byte) (int, error) {
	w.Header().Del("Link")
	return w.ResponseWriter.Write(p)
}

// Unwrap gives [http.ResponseController] the underlying writer.
func (w *noLinkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
