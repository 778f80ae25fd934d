package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/route"
	"github.com/regkit/regkit/transport"
)

// parsedTarget is what a request path names, as [route.Parse] reads it.
type parsedTarget struct {
	route route.Kind
	name  string // the repository, checked
	ref   string // tag, digest or upload ID, not checked
}

// allowedMethods lists the methods of each route, for 405 answers.
var allowedMethods = map[route.Kind]string{
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
func (h *Handler) route(w *responseWriter, r *http.Request) {
	t, err := parseRequest(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !slices.Contains(strings.Split(allowedMethods[t.route], ", "), r.Method) {
		w.Header().Set("Allow", allowedMethods[t.route])
		h.fail(w, r, statusError(http.StatusMethodNotAllowed, transport.CodeUnsupported, "method %s is not allowed here; allowed: %s", r.Method, allowedMethods[t.route]))
		return
	}
	switch t.route {
	case route.Base:
		_ = writeJSONBody(w, r, http.StatusOK, "application/json", struct{}{})
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

// parseRequest finds the endpoint r's path names: the parse a server in front
// of the Handler (the fake's authorization) attached to r's context, so
// that both act on the same one, or else a parse of its own. A path that
// names no endpoint gets 404; one with a malformed segment or an invalid
// name, NAME_INVALID.
func parseRequest(r *http.Request) (parsedTarget, error) {
	t, err := route.FromRequest(r)
	switch {
	case errors.Is(err, route.ErrNoEndpoint):
		return parsedTarget{}, notFound(r.URL.EscapedPath())
	case errors.Is(err, transport.ErrNameInvalid): // the name, as spec.CheckName judged it
		return parsedTarget{}, err
	case err != nil: // a malformed segment
		return parsedTarget{}, transport.Wrap(transport.CodeNameInvalid, err)
	}
	return parsedTarget{route: t.Kind, name: t.Name, ref: t.Ref}, nil
}

// notFound is the answer for a path that names no endpoint: 404, with
// UNSUPPORTED, the one spec code that says the operation does not exist.
func notFound(escaped string) error {
	return statusError(http.StatusNotFound, transport.CodeUnsupported, "no endpoint of the distribution API at %q", escaped)
}
