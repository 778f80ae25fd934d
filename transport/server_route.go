package transport

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/reference"
)

// srvRoute is an endpoint of the distribution API.
type srvRoute int

const (
	srvRouteBase        srvRoute = iota + 1 // /v2/
	srvRouteCatalog                         // /v2/_catalog
	srvRouteManifest                        // /v2/<name>/manifests/<ref>
	srvRouteBlob                            // /v2/<name>/blobs/<digest>
	srvRouteUploadStart                     // /v2/<name>/blobs/uploads/
	srvRouteUpload                          // /v2/<name>/blobs/uploads/<id>
	srvRouteTags                            // /v2/<name>/tags/list
	srvRouteReferrers                       // /v2/<name>/referrers/<digest>
)

// srvTarget is what a request path names.
type srvTarget struct {
	route srvRoute
	name  string // the repository, checked
	ref   string // tag, digest or upload ID, not checked
}

// srvAllowed lists the methods of each route, for 405 answers.
var srvAllowed = map[srvRoute]string{
	srvRouteBase:        "GET, HEAD",
	srvRouteCatalog:     "GET, HEAD",
	srvRouteManifest:    "GET, HEAD, PUT, DELETE",
	srvRouteBlob:        "GET, HEAD, DELETE",
	srvRouteUploadStart: "POST",
	srvRouteUpload:      "GET, HEAD, PATCH, PUT, DELETE",
	srvRouteTags:        "GET, HEAD",
	srvRouteReferrers:   "GET, HEAD",
}

// route serves r by the endpoint its path names.
func (h *Handler) route(w *srvWriter, r *http.Request) {
	t, err := srvParsePath(r.URL.EscapedPath())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !slices.Contains(strings.Split(srvAllowed[t.route], ", "), r.Method) {
		w.Header().Set("Allow", srvAllowed[t.route])
		h.fail(w, r, srvStatus(http.StatusMethodNotAllowed, CodeUnsupported, "method %s is not allowed here; allowed: %s", r.Method, srvAllowed[t.route]))
		return
	}
	switch t.route {
	case srvRouteBase:
		_ = srvWriteJSON(w, r, http.StatusOK, "application/json", struct{}{})
	case srvRouteCatalog:
		h.serveCatalog(w, r)
	case srvRouteManifest:
		h.serveManifest(w, r, t)
	case srvRouteBlob:
		h.serveBlob(w, r, t)
	case srvRouteUploadStart:
		h.serveUploadStart(w, r, t)
	case srvRouteUpload:
		h.serveUpload(w, r, t)
	case srvRouteTags:
		h.serveTags(w, r, t)
	case srvRouteReferrers:
		h.serveReferrers(w, r, t)
	}
}

// srvParsePath finds the endpoint an escaped request path names. Names may
// hold slashes, so the endpoint is read from the end of the path: a name can
// even contain "manifests" or "blobs" as a component. Every segment is
// unescaped on its own; an escaped slash, an empty segment, "." or ".." and
// anything else a repository name cannot hold gives NAME_INVALID.
func srvParsePath(escaped string) (srvTarget, error) {
	if escaped == "/v2" || escaped == "/v2/" {
		return srvTarget{route: srvRouteBase}, nil
	}
	rest, ok := strings.CutPrefix(escaped, "/v2/")
	if !ok {
		return srvTarget{}, srvNotFound(escaped)
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return srvTarget{}, Errorf(CodeNameInvalid, "malformed path: %v", err)
		}
		if strings.Contains(u, "/") {
			return srvTarget{}, Errorf(CodeNameInvalid, "malformed path: escaped slash in %q", s)
		}
		segs[i] = u
	}
	k := len(segs)
	var t srvTarget
	switch {
	case k == 1 && segs[0] == "_catalog":
		return srvTarget{route: srvRouteCatalog}, nil
	case k < 3:
		return srvTarget{}, srvNotFound(escaped)
	case segs[k-2] == "tags" && segs[k-1] == "list":
		t = srvTarget{route: srvRouteTags}
	case segs[k-2] == "manifests":
		t = srvTarget{route: srvRouteManifest, ref: segs[k-1]}
	case segs[k-2] == "referrers":
		t = srvTarget{route: srvRouteReferrers, ref: segs[k-1]}
	case segs[k-2] == "blobs" && segs[k-1] == "uploads":
		t = srvTarget{route: srvRouteUploadStart}
	case segs[k-2] == "blobs":
		t = srvTarget{route: srvRouteBlob, ref: segs[k-1]}
	case k >= 4 && segs[k-3] == "blobs" && segs[k-2] == "uploads":
		t = srvTarget{route: srvRouteUpload, ref: segs[k-1]}
		if segs[k-1] == "" { // the POST URL, with its trailing slash
			t = srvTarget{route: srvRouteUploadStart}
		}
		k-- // the name ends before "blobs"
	default:
		return srvTarget{}, srvNotFound(escaped)
	}
	t.name = strings.Join(segs[:k-2], "/")
	if err := reference.ValidateRepository(t.name); err != nil {
		return srvTarget{}, Errorf(CodeNameInvalid, "%v", err)
	}
	return t, nil
}

// srvNotFound is the answer for a path that names no endpoint: 404, with
// UNSUPPORTED, the one spec code that says the operation does not exist.
func srvNotFound(escaped string) error {
	return srvStatus(http.StatusNotFound, CodeUnsupported, "no endpoint of the distribution API at %q", escaped)
}

// srvDigest checks a digest from a request.
func srvDigest(s string) (digest.Digest, error) {
	d, err := reference.ValidateDigest(s)
	if err != nil {
		return "", Errorf(CodeDigestInvalid, "%v", err)
	}
	return d, nil
}

// srvCheckRef checks a manifest reference, a tag or a digest (if it has a
// colon). It reports whether ref is a tag.
func srvCheckRef(ref string) (isTag bool, err error) {
	if strings.Contains(ref, ":") {
		_, err := srvDigest(ref)
		return false, err
	}
	if err := reference.ValidateTag(ref); err != nil {
		return true, Errorf(CodeTagInvalid, "%v", err)
	}
	return true, nil
}
