package transport

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/route"
	"github.com/regkit/regkit/reference"
)

// srvTarget is what a request path names, as [route.Parse] reads it.
type srvTarget struct {
	route route.Kind
	name  string // the repository, checked
	ref   string // tag, digest or upload ID, not checked
}

// srvAllowed lists the methods of each route, for 405 answers.
var srvAllowed = map[route.Kind]string{
	route.Base:        "GET, HEAD",
	route.Catalog:     "GET, HEAD",
	route.Manifest:    "GET, HEAD, PUT, DELETE",
	route.Blob:        "GET, HEAD, DELETE",
	route.UploadStart: "POST",
	route.Upload:      "GET, HEAD, PATCH, PUT, DELETE",
	route.Tags:        "GET, HEAD",
	route.Referrers:   "GET, HEAD",
}

// route serves r by the endpoint its path names.
func (h *Handler) route(w *srvWriter, r *http.Request) {
	t, err := srvParse(r)
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
	case route.Base:
		_ = srvWriteJSON(w, r, http.StatusOK, "application/json", struct{}{})
	case route.Catalog:
		h.serveCatalog(w, r)
	case route.Manifest:
		h.serveManifest(w, r, t)
	case route.Blob:
		h.serveBlob(w, r, t)
	case route.UploadStart:
		h.serveUploadStart(w, r, t)
	case route.Upload:
		h.serveUpload(w, r, t)
	case route.Tags:
		h.serveTags(w, r, t)
	case route.Referrers:
		h.serveReferrers(w, r, t)
	}
}

// srvParse finds the endpoint r's path names: the parse a server in front
// of the Handler (the fake's authorization) attached to r's context, so
// that both act on the same one, or else a parse of its own. A path that
// names no endpoint gets 404; one with a malformed segment or an invalid
// name, NAME_INVALID.
func srvParse(r *http.Request) (srvTarget, error) {
	t, err := route.FromRequest(r)
	switch {
	case errors.Is(err, route.ErrNoEndpoint):
		return srvTarget{}, srvNotFound(r.URL.EscapedPath())
	case err != nil:
		return srvTarget{}, Errorf(CodeNameInvalid, "%v", err)
	}
	return srvTarget{route: t.Kind, name: t.Name, ref: t.Ref}, nil
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
