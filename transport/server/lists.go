package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// maxPageSize caps the n= of a list request. A larger n gets this many
// entries and a Link to the rest, which the spec allows.
const maxPageSize = 10000

// defaultReferrersPage is the number of referrers a page holds when the
// request gives no n: more follow behind a Link, as the spec allows, so
// that no page outgrows what clients read as one index (regkit's client
// reads at most 4 MiB; 1000 descriptors of referrers without large
// annotations are about 200 KB).
const defaultReferrersPage = 1000

// maxReferrersBody is the most bytes a page of referrers holds when it can:
// a page that encodes to more is asked for again with half as many
// referrers (down to one), the rest behind its Link. Annotations are
// unbounded, so a count alone does not keep a page under what a client
// reads as one index.
const maxReferrersBody = 1 << 20

// pageParams is a page request read from a query.
type pageParams struct {
	req   transport.PageRequest
	n     string // the n= parameter as given, "" if none
	empty bool   // n=0: the spec wants an empty list and no Link
}

// parsePage reads the n=, last= and next= parameters of a list request.
// n must be a non-negative integer, else SIZE_INVALID (the distribution
// registry's PAGINATION_NUMBER_INVALID is no spec code). next= is the
// opaque cursor of a Link this handler sent; it wins over last=.
func parsePage(q url.Values) (pageParams, error) {
	p := pageParams{req: transport.PageRequest{Last: q.Get("last"), Next: q.Get("next")}}
	if q.Has("n") {
		p.n = q.Get("n")
		n, ok := parseUint(p.n)
		if !ok {
			return pageParams{}, transport.Errorf(transport.CodeSizeInvalid, "n=%q is not a page size (a non-negative integer)", p.n)
		}
		p.req.N = int(min(n, maxPageSize))
		if n == 0 {
			p.empty, p.req.N = true, 1 // still ask, so that an unknown repository is reported
		}
	}
	return p, nil
}

// setLink sets the Link header to the page after one whose last entry
// has the key lastKey. The cursor goes in last= when it is that key (so the
// link is the spec's), else in next=; a filter by artifactType goes with
// it. The query is written as url.Values would encode it, keys sorted,
// without building the map.
func setLink(hdr http.Header, path string, p pageParams, next, lastKey, artifactType string) {
	if next == "" || p.empty {
		return
	}
	var b strings.Builder
	b.Grow(len(path) + len(next) + len(p.n) + len(artifactType) + 40)
	b.WriteString("<")
	b.WriteString(path)
	sep := "?"
	add := func(key, value string) {
		b.WriteString(sep)
		b.WriteString(key)
		b.WriteString("=")
		b.WriteString(url.QueryEscape(value))
		sep = "&"
	}
	if artifactType != "" {
		add("artifactType", artifactType)
	}
	if next == lastKey {
		add("last", next)
	}
	if p.n != "" {
		add("n", p.n)
	}
	if next != lastKey {
		add("next", next)
	}
	b.WriteString(`>; rel="next"`)
	hdr.Set("Link", b.String())
}

// serveTags serves GET /v2/<name>/tags/list.
func (h *Handler) serveTags(w *responseWriter, r *http.Request, t parsedTarget) {
	p, err := parsePage(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.t.ListTags(r.Context(), t.name, p.req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tags := pageItems(page.Items, p.empty)
	setLink(w.Header(), "/v2/"+t.name+"/tags/list", p, page.Next, lastItem(tags), "")
	body, err := tagsJSON(t.name, tags)
	h.writeList(w, r, body, err)
}

// serveCatalog serves GET /v2/_catalog. A Transport without a catalog
// gives 404 with UNSUPPORTED, as for an endpoint that does not exist.
func (h *Handler) serveCatalog(w *responseWriter, r *http.Request) {
	p, err := parsePage(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.t.ListRepositories(r.Context(), p.req)
	if errors.Is(err, transport.ErrUnsupported) {
		err = statusError(http.StatusNotFound, transport.CodeUnsupported, "this registry has no catalog")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	repos := pageItems(page.Items, p.empty)
	setLink(w.Header(), "/v2/_catalog", p, page.Next, lastItem(repos), "")
	body, err := catalogJSON(repos)
	h.writeList(w, r, body, err)
}

// serveReferrers serves GET /v2/<name>/referrers/<digest>: an image index
// of the referrers, empty (never 404) when there are none or the
// repository is unknown. Without n= a page holds at most
// [defaultReferrersPage] referrers, with a Link to the next, and a page
// holds fewer when they would encode to more than [maxReferrersBody]. With ?artifactType= only referrers of that type
// are listed, and OCI-Filters-Applied says so. A Transport that cannot list
// referrers gives 404, which tells clients to fall back to the referrers
// tag schema.
func (h *Handler) serveReferrers(w *responseWriter, r *http.Request, t parsedTarget) {
	d, err := spec.CheckDigest(t.ref)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if p.n == "" {
		p.req.N = defaultReferrersPage
	}
	artifactType := q.Get("artifactType")
	for {
		page, body, err := h.referrersPage(r, t.name, d, artifactType, p)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// Ask again only while the Transport keeps to N: one that ignores it
		// would give the same page again, for ever.
		if len(body) > maxReferrersBody && len(page.Items) > 1 && len(page.Items) <= p.req.N {
			// The Link asks for pages of the smaller size, so that the
			// next request does not halve its way down again.
			p.req.N = len(page.Items) / 2
			p.n = strconv.Itoa(p.req.N)
			continue
		}
		if artifactType != "" {
			w.Header().Set("OCI-Filters-Applied", "artifactType")
		}
		lastKey := ""
		if len(page.Items) > 0 {
			lastKey = string(page.Items[len(page.Items)-1].Digest)
		}
		setLink(w.Header(), "/v2/"+t.name+"/referrers/"+string(d), p, page.Next, lastKey, artifactType)
		writeBody(w, r, http.StatusOK, ocispec.MediaTypeImageIndex, body)
		return
	}
}

// referrersPage asks the Transport for one page of the referrers of d in
// repo and encodes the image index that lists them (of artifactType only,
// when it is not "").
func (h *Handler) referrersPage(r *http.Request, repo string, d digest.Digest, artifactType string, p pageParams) (transport.Page[ocispec.Descriptor], []byte, error) {
	page, err := h.t.ListReferrers(r.Context(), repo, d, artifactType, p.req)
	switch {
	case errors.Is(err, transport.ErrNameUnknown), errors.Is(err, transport.ErrManifestUnknown):
		page, err = transport.Page[ocispec.Descriptor]{}, nil
	case errors.Is(err, transport.ErrUnsupported):
		err = statusError(http.StatusNotFound, transport.CodeUnsupported, "this registry cannot list referrers")
	}
	if err != nil {
		return page, nil, err
	}
	descs := pageItems(page.Items, p.empty)
	if artifactType != "" {
		kept := make([]ocispec.Descriptor, 0, len(descs))
		for _, desc := range descs {
			if desc.ArtifactType == artifactType {
				kept = append(kept, desc)
			}
		}
		descs = kept
	}
	body, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: descs,
	})
	return page, body, err
}

// writeJSON answers 200 with v as JSON.
func (h *Handler) writeJSON(w *responseWriter, r *http.Request, contentType string, v any) {
	if err := writeJSONBody(w, r, http.StatusOK, contentType, v); err != nil {
		h.fail(w, r, err)
	}
}

// pageItems returns items as a non-nil slice (a JSON array, never null),
// empty when the request asked for n=0.
func pageItems[T any](items []T, empty bool) []T {
	if items == nil || empty {
		return []T{}
	}
	return items
}

// lastItem returns the last of items, or "".
func lastItem(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return items[len(items)-1]
}
