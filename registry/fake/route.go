package fake

import (
	"net/http"

	"github.com/regkit/regkit/internal/route"
)

// Route is the kind of endpoint a request names: what a [Fault] matches
// and what the request log records ([Request.Route]). The empty Route
// matches every request in [Fault.On], and names paths that are no
// endpoint in the log.
//
// A request's route is the endpoint the server serves it as: its path is
// read as [server.Handler] reads it, each segment unescaped, so
// "/v2/app/%6Danifests/v1" is a [RouteManifest] of "app" like
// "/v2/app/manifests/v1". A path the handler refuses (an invalid
// repository name, an escaped slash) names no route.
type Route string

// The routes of the distribution API, the token endpoint and the blob host
// of [ProfileS3].
const (
	RoutePing      Route = "ping"      // /v2/, the version check
	RouteCatalog   Route = "catalog"   // /v2/_catalog
	RouteManifest  Route = "manifest"  // /v2/<name>/manifests/<reference>
	RouteBlob      Route = "blob"      // /v2/<name>/blobs/<digest>
	RouteUpload    Route = "upload"    // /v2/<name>/blobs/uploads/ and its sessions
	RouteTags      Route = "tags"      // /v2/<name>/tags/list
	RouteReferrers Route = "referrers" // /v2/<name>/referrers/<digest>
	RouteToken     Route = "token"     // /token, the realm of [WithTokenAuth]
	RouteBlobHost  Route = "blob-host" // the object storage [ProfileS3] redirects blob GETs to
)

// target is what the server reads from a request, once, when it comes in:
// every decision about the request (authorization, faults, profiles, the
// request log) reads it, and the API handler serves the very parse it
// holds (see [route.NewContext]).
type target struct {
	rt   Route
	repo string       // the repository the request names; "" for none
	api  route.Target // the API endpoint; the zero Target for the token endpoint, the blob host and paths that name none
}

// parseRequest reads the target of a request to the server, and returns
// the request with the parse attached for the API handler.
func parseRequest(r *http.Request) (*http.Request, target) {
	escaped := r.URL.EscapedPath()
	ctx, api, err := route.NewContext(r.Context(), escaped)
	return r.WithContext(ctx), targetOf(escaped, api, err)
}

// targetOf is the target of the escaped path, whose parse is api and err.
// Only the exact paths /token and /token/ are the token endpoint.
func targetOf(escaped string, api route.Target, err error) target {
	switch {
	case escaped == tokenPath || escaped == tokenPath+"/":
		return target{rt: RouteToken}
	case err != nil:
		return target{}
	}
	return target{rt: routeOfKind(api.Kind), repo: api.Name, api: api}
}

// routeOfKind is the Route of an API endpoint.
func routeOfKind(k route.Kind) Route {
	switch k {
	case route.Base:
		return RoutePing
	case route.Catalog:
		return RouteCatalog
	case route.Manifest:
		return RouteManifest
	case route.Blob:
		return RouteBlob
	case route.UploadStart, route.Upload:
		return RouteUpload
	case route.Tags:
		return RouteTags
	case route.Referrers:
		return RouteReferrers
	}
	return ""
}
