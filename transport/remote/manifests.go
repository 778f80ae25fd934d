package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// The Docker manifest media types the client asks for besides OCI's.
const (
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerSchema1      = "application/vnd.docker.distribution.manifest.v1+json"
	dockerSchema1JWS   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// manifestAccept is the Accept header of manifest requests. Schema 1 is
// listed last so that registries that only have it send it, and the client
// can say clearly that it does not read it.
var manifestAccept = strings.Join([]string{
	ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
	dockerManifest, dockerManifestList, dockerSchema1JWS, dockerSchema1,
}, ", ")

// GetManifest fetches the manifest ref names in repo (GET
// /v2/<name>/manifests/<ref>). It checks the bytes against ref when ref is
// a digest, and against the Docker-Content-Digest header when the registry
// sends one, failing with [transport.ErrDigestInvalid] on a mismatch. A manifest
// larger than the limit (see [WithMaxManifestSize]) is refused with
// [transport.ErrManifestInvalid]. The descriptor's media type is the response's
// Content-Type; its digest is ref, or the header's, or the sha256 of the
// bytes.
func (c *Client) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	if err := checkRepo(repo); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	_, want, err := spec.ParseRef(ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodGet, url: c.endpoint(repo, "manifests", ref),
		header:   http.Header{"Accept": {manifestAccept}},
		notFound: transport.CodeManifestUnknown, want: []int{http.StatusOK},
		read: c.maxManifest,
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	defer drainClose(resp)
	body, err := c.readManifest(resp, "manifest "+ref+" of "+repo)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	desc, err := manifestDescriptor(resp, repo, ref, want, body)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return desc, body, nil
}

// readManifest reads a manifest-sized body, refusing one larger than the
// limit by its Content-Length or after reading one byte more than it.
func (c *Client) readManifest(resp *http.Response, what string) ([]byte, error) {
	if resp.ContentLength > c.maxManifest {
		return nil, transport.Errorf(transport.CodeManifestInvalid, "%s is too large: %d bytes, more than the limit of %d", what, resp.ContentLength, c.maxManifest)
	}
	body, err := bodyBytes(resp, c.maxManifest)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read %s: %w", resp.Request.Method, redact(resp.Request.URL), what, err)
	}
	if int64(len(body)) > c.maxManifest {
		return nil, transport.Errorf(transport.CodeManifestInvalid, "%s is too large: more than the limit of %d bytes", what, c.maxManifest)
	}
	return body, nil
}

// HeadManifest returns the descriptor of the manifest ref names in repo
// (HEAD /v2/<name>/manifests/<ref>). Where the HEAD response cannot give it
// (a tag without a Docker-Content-Digest header, no Content-Length) it reads
// the manifest with a GET instead. A 404 has no body to say whether the
// manifest or the repository is unknown: it is reported as
// [transport.ErrManifestUnknown] (both match [transport.ErrNotFound]); a push asks this first,
// and a second request to tell them apart would cost every new push one
// round trip.
func (c *Client) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	desc, err := c.headManifest(ctx, repo, ref)
	if errors.Is(err, errClNeedGet) {
		desc, _, err = c.GetManifest(ctx, repo, ref)
	}
	return desc, err
}

// errClNeedGet says that a HEAD response lacks what the descriptor needs.
var errClNeedGet = errors.New("HEAD response without digest or size")

// headManifest is one HEAD request, with nothing more.
func (c *Client) headManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	if err := checkRepo(repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	_, want, err := spec.ParseRef(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodHead, url: c.endpoint(repo, "manifests", ref),
		header:   http.Header{"Accept": {manifestAccept}},
		notFound: transport.CodeManifestUnknown, want: []int{http.StatusOK},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	drainClose(resp)
	if resp.ContentLength < 0 || (want == "" && resp.Header.Get("Docker-Content-Digest") == "") {
		return ocispec.Descriptor{}, errClNeedGet
	}
	return manifestDescriptor(resp, repo, ref, want, nil)
}

// manifestDescriptor checks a manifest response and describes it. body is
// nil for a HEAD response.
func manifestDescriptor(resp *http.Response, repo, ref string, want digest.Digest, body []byte) (ocispec.Descriptor, error) {
	desc := ocispec.Descriptor{MediaType: baseMediaType(resp.Header.Get("Content-Type")), Size: resp.ContentLength}
	if desc.MediaType == dockerSchema1 || desc.MediaType == dockerSchema1JWS {
		return ocispec.Descriptor{}, transport.Errorf(transport.CodeUnsupported, "manifest %s of %s is a Docker schema 1 manifest (%s), a deprecated format regkit does not read", ref, repo, desc.MediaType)
	}
	var header digest.Digest
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" {
		header = digest.Digest(h)
		if err := header.Validate(); err != nil {
			return ocispec.Descriptor{}, &transport.Error{Code: transport.CodeDigestInvalid, Message: fmt.Sprintf("manifest %s of %s: registry sent Docker-Content-Digest %q", ref, repo, h), Err: err}
		}
	}
	if body == nil {
		desc.Digest = want
		if want == "" {
			desc.Digest = header
		} else if header != "" && header.Algorithm() == want.Algorithm() && header != want {
			return ocispec.Descriptor{}, transport.Errorf(transport.CodeDigestInvalid, "manifest %s of %s: registry answered with digest %s", ref, repo, header)
		}
		return desc, nil
	}
	desc.Size = int64(len(body))
	if want != "" {
		if got := want.Algorithm().FromBytes(body); got != want {
			return ocispec.Descriptor{}, transport.Errorf(transport.CodeDigestInvalid, "manifest %s of %s: content hashes to %s", ref, repo, got)
		}
	}
	if header != "" {
		if got := header.Algorithm().FromBytes(body); got != header {
			return ocispec.Descriptor{}, transport.Errorf(transport.CodeDigestInvalid, "manifest %s of %s: registry says its digest is %s, but its content hashes to %s", ref, repo, header, got)
		}
	}
	switch {
	case want != "":
		desc.Digest = want
	case header != "":
		desc.Digest = header
	default:
		desc.Digest = digest.SHA256.FromBytes(body)
	}
	if desc.MediaType == "" || desc.MediaType == "application/json" || desc.MediaType == "application/octet-stream" {
		if mt := parseManifest(body).MediaType; mt != "" {
			desc.MediaType = mt
		}
	}
	return desc, nil
}

// baseMediaType returns a Content-Type without its parameters.
func baseMediaType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

// manifestInfo is what the client reads of a manifest it pushes.
type manifestInfo struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Config       *struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Subject     *ocispec.Descriptor `json:"subject"`
	Annotations map[string]string   `json:"annotations"`
}

// parseManifest reads what the client needs of a manifest. What is not
// JSON gives the zero value: the registry judges it.
func parseManifest(body []byte) manifestInfo {
	var info manifestInfo
	_ = json.Unmarshal(body, &info)
	return info
}

// PutManifest stores body under ref in repo (PUT /v2/<name>/manifests/<ref>)
// with mediaType as its Content-Type (or, if empty, the manifest's own
// mediaType field).
//
// opts.IfMatch makes a put under a tag conditional: the PUT carries
// If-Match: "<IfMatch>", and fails with [transport.ErrPreconditionFailed] when the
// registry answers 412. Until the registry has answered a conditional put
// with 412 (which proves that it honours the header, and is remembered), the
// client also checks the tag with a HEAD before the put and again after it,
// and fails with [transport.ErrPreconditionFailed] if the tag did not point at IfMatch,
// or no longer points at body because a concurrent writer won. On a registry
// that ignores If-Match (many do) a window remains: a
// writer that moves the tag between the first HEAD and the PUT loses its
// update without either side being told. Only the header closes it. The
// client never writes anything to the tag but body.
//
// opts.Tags go with a put by digest as tag query parameters
// (?tag=1.0&tag=latest, the distribution spec's next version), so that each
// names the manifest by that digest; each tag the registry does not confirm
// with an OCI-Tag response header (registries without them ignore the
// parameters) is then put by tag, as with a put by tag, which names the
// manifest by its sha256 digest there.
//
// A manifest with a subject pushed to a registry that does not say it
// processed the subject (no OCI-Subject response header) is added to the
// referrers index under the subject's fallback tag (sha256-<hex>), as the
// spec asks of clients, and checked to be still listed once concurrent
// writers have had time to overwrite it (see the package documentation);
// when it cannot be kept listed, the put fails with
// [transport.ErrPreconditionFailed], the manifest stored.
func (c *Client) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	if err := checkRepo(repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	_, want, err := spec.ParseRef(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	own := digest.SHA256.FromBytes(body)
	if want != "" {
		if own = want.Algorithm().FromBytes(body); own != want {
			return ocispec.Descriptor{}, transport.Errorf(transport.CodeDigestInvalid, "manifest put as %s in %s hashes to %s", want, repo, own)
		}
	}
	info := parseManifest(body)
	if mediaType == "" {
		mediaType = info.MediaType
	}
	if mediaType == "" {
		return ocispec.Descriptor{}, transport.Errorf(transport.CodeManifestInvalid, "manifest %s for %s has no media type", ref, repo)
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: own, Size: int64(len(body))}
	tags, err := extraTags(ref, want, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var hdr http.Header
	switch {
	case want != "" && len(tags) > 0:
		hdr, err = c.putManifestTags(ctx, repo, ref, tags, mediaType, body, nil)
	case opts != nil && opts.IfMatch != "" && want == "":
		if err := checkDigest(opts.IfMatch); err != nil {
			return ocispec.Descriptor{}, err
		}
		hdr, err = c.putIfMatch(ctx, repo, ref, mediaType, body, own, opts.IfMatch)
	default:
		hdr, err = c.putManifest(ctx, repo, ref, mediaType, body, nil)
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := c.putUnconfirmed(ctx, repo, tags, confirmedTags(hdr), mediaType, body); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s stored in %s: %w", own, repo, err)
	}
	if info.Subject != nil && info.Subject.Digest.Validate() == nil && hdr.Get("OCI-Subject") == "" {
		if err := c.addReferrer(ctx, repo, info.Subject.Digest, referrerDescriptor(desc, info)); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s stored in %s, but not listed as a referrer of %s: %w", own, repo, info.Subject.Digest, err)
		}
	}
	return desc, nil
}

// putManifest PUTs body under ref; it returns the response headers.
//
// The registry's Docker-Content-Digest must be the digest of body: when it
// is not, the bytes changed on the way (a broken proxy) and the registry
// stored, and tagged, something else. The put is then sent once more (a
// conditional one, If-Match or If-None-Match, now If-Match on what was
// stored by mistake), so that the tag ends up naming body; if the registry
// stores other bytes again, the put fails with [transport.ErrDigestInvalid].
//
// A put the registry refuses with DIGEST_INVALID or SIZE_INVALID, as it
// does bytes damaged on the way, is also sent once more (before any repair):
// a manifest refused for what it is gets the same answer twice.
func (c *Client) putManifest(ctx context.Context, repo, ref, mediaType string, body []byte, hdr http.Header) (http.Header, error) {
	return c.putManifestTags(ctx, repo, ref, nil, mediaType, body, hdr)
}

// putManifestTags is putManifest with tags as tag query parameters.
func (c *Client) putManifestTags(ctx context.Context, repo, ref string, tags []string, mediaType string, body []byte, hdr http.Header) (http.Header, error) {
	u := c.endpoint(repo, "manifests", ref)
	if len(tags) > 0 {
		q := u.Query()
		q["tag"] = tags
		u.RawQuery = q.Encode()
	}
	h := http.Header{"Content-Type": {mediaType}}
	for k, v := range hdr {
		h[k] = v
	}
	alg := digest.Canonical
	if d, err := digest.Parse(ref); err == nil {
		alg = d.Algorithm()
	}
	own := alg.FromBytes(body)
	var stored digest.Digest // what a put stored by mistake
	refused := false         // a put was refused as corrupt
	for {
		if stored != "" && (h.Get("If-Match") != "" || h.Get("If-None-Match") != "") {
			// The tag now names what was stored by mistake: only that may
			// be replaced.
			h.Del("If-None-Match")
			h.Set("If-Match", `"`+stored.String()+`"`)
		}
		resp, err := c.do(ctx, reqSpec{
			method: http.MethodPut, url: u, header: h,
			body: bytes.NewReader(body), size: int64(len(body)),
			notFound:   transport.CodeNameUnknown,
			want:       []int{http.StatusCreated, http.StatusOK, http.StatusAccepted, http.StatusNoContent},
			idempotent: true,
		})
		if err != nil && !refused && stored == "" && (errors.Is(err, transport.ErrDigestInvalid) || errors.Is(err, transport.ErrSizeInvalid)) {
			refused = true
			continue
		}
		if err != nil {
			return nil, err
		}
		drainClose(resp)
		got, perr := digest.Parse(resp.Header.Get("Docker-Content-Digest"))
		if perr != nil || got.Algorithm() != alg || got == own {
			return resp.Header, nil
		}
		if stored != "" {
			return nil, transport.Errorf(transport.CodeDigestInvalid, "put manifest %s of %s: the registry stored %s, not %s: the bytes changed on the way, twice, and %s may name the wrong manifest",
				ref, repo, got, own, ref)
		}
		stored = got
	}
}

// extraTags returns opts.Tags that are not ref, checked with
// [spec.CheckTags], without duplicates: the tags a put points at the
// manifest besides ref. want is the digest of ref, or "" for a tag.
func extraTags(ref string, want digest.Digest, opts *transport.PutManifestOptions) ([]string, error) {
	if opts == nil {
		return nil, nil
	}
	checked, err := spec.CheckTags(opts.Tags)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range checked {
		if want != "" || t != ref {
			tags = append(tags, t)
		}
	}
	return tags, nil
}

// confirmedTags returns the tags the OCI-Tag headers of a manifest put's
// answer list (one or more a header, separated by commas).
func confirmedTags(hdr http.Header) []string {
	var tags []string
	for _, v := range hdr.Values("OCI-Tag") {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// putUnconfirmed puts body by tag under each of tags not in confirmed.
func (c *Client) putUnconfirmed(ctx context.Context, repo string, tags, confirmed []string, mediaType string, body []byte) error {
	for _, t := range tags {
		if slices.Contains(confirmed, t) {
			continue
		}
		if _, err := c.putManifest(ctx, repo, t, mediaType, body, nil); err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
	}
	return nil
}

// DeleteManifest deletes what ref names in repo (DELETE
// /v2/<name>/manifests/<ref>). Deleting a tag this way needs a registry with
// tag DELETE; [Client.DeleteTag] works everywhere.
//
// When the registry may lack the referrers API, a manifest deleted by digest
// is read first: if it has a subject and the registry has no referrers API,
// it is removed from the subject's fallback referrers index too.
func (c *Client) DeleteManifest(ctx context.Context, repo, ref string) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	_, want, err := spec.ParseRef(ref)
	if err != nil {
		return err
	}
	var subject digest.Digest
	if want != "" && c.caps.referrers.get() != triYes {
		if _, raw, err := c.GetManifest(ctx, repo, ref); err == nil {
			if info := parseManifest(raw); info.Subject != nil {
				subject = info.Subject.Digest
			}
		}
	}
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodDelete, url: c.endpoint(repo, "manifests", ref),
		notFound: transport.CodeManifestUnknown,
		want:     []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
	})
	if err != nil {
		switch {
		case want == "" && tagDeleteUnsupported(err):
			c.caps.tagDelete.set(triNo)
		case want != "" && deleteUnsupported(err):
			c.caps.digestDelete.set(triNo)
		}
		return err
	}
	drainClose(resp)
	if want == "" {
		c.caps.tagDelete.set(triYes)
	} else {
		c.caps.digestDelete.set(triYes)
	}
	if subject == "" || subject.Validate() != nil {
		return nil
	}
	has, err := c.hasReferrersAPI(ctx, repo, subject)
	if err == nil && !has {
		err = c.removeReferrer(ctx, repo, subject, want)
	}
	if err != nil {
		return fmt.Errorf("manifest %s deleted from %s, but still listed as a referrer of %s: %w", want, repo, subject, err)
	}
	return nil
}
