package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// serveManifest serves /v2/<name>/manifests/<ref>.
func (h *Handler) serveManifest(w *responseWriter, r *http.Request, t parsedTarget) {
	tag, _, err := spec.ParseRef(t.ref)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.getManifest(w, r, t)
	case http.MethodPut:
		h.putManifest(w, r, t)
	case http.MethodDelete:
		h.deleteManifest(w, r, t, tag != "")
	}
}

// getManifest serves GET and HEAD of a manifest: its media type, size,
// digest and ETag, and for GET its exact bytes. An If-None-Match naming
// the manifest's ETag gives 304.
func (h *Handler) getManifest(w *responseWriter, r *http.Request, t parsedTarget) {
	var (
		desc ocispec.Descriptor
		body []byte
		err  error
	)
	if r.Method == http.MethodHead {
		desc, err = h.t.HeadManifest(r.Context(), t.name, t.ref)
	} else {
		desc, body, err = h.t.GetManifest(r.Context(), t.name, t.ref)
		desc.Size = int64(len(body))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hdr := w.Header()
	setDigest(hdr, desc.Digest)
	if etagsMatch(r.Header.Values("If-None-Match"), desc.Digest) {
		writeEmpty(w, http.StatusNotModified)
		return
	}
	mediaType := desc.MediaType
	if mediaType == "" {
		mediaType = ocispec.MediaTypeImageManifest
	}
	hdr.Set("Content-Type", mediaType)
	hdr.Set("Content-Length", strconv.FormatInt(desc.Size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// putManifest serves PUT of a manifest: the body, at most h.maxManifest
// bytes, of the media type the Content-Type header names (without
// parameters), put under an If-Match condition if the request has one. A
// put by digest takes the tag query parameters of the distribution spec's
// next version (?tag=1.0&tag=latest): the tags point at the manifest by that
// digest, in the same put ([transport.PutManifestOptions.Tags]), and the
// answer confirms each with an OCI-Tag header, once. The Transport must
// apply those tags or fail the put: the confirmation is what clients take
// for the tag's existence.
func (h *Handler) putManifest(w *responseWriter, r *http.Request, t parsedTarget) {
	tooLarge := statusError(http.StatusRequestEntityTooLarge, transport.CodeManifestInvalid, "the manifest is larger than the limit of %d bytes", h.maxManifest)
	if r.ContentLength > h.maxManifest {
		h.fail(w, r, tooLarge)
		return
	}
	body := &requestBody{r: r.Body, code: transport.CodeManifestInvalid}
	data, err := io.ReadAll(io.LimitReader(body, h.maxManifest+1))
	if err != nil {
		h.fail(w, r, body.blame(r, err))
		return
	}
	if int64(len(data)) > h.maxManifest {
		h.fail(w, r, tooLarge)
		return
	}
	opts, err := h.ifMatch(r, t)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tags := r.URL.Query()["tag"]
	if !spec.IsDigest(t.ref) {
		tags = nil // the tag parameters go with a put by digest only
	}
	tags, err = spec.CheckTags(tags)
	if err != nil {
		h.fail(w, r, err) // whatever the Transport would make of them
		return
	}
	if len(tags) > 0 {
		if opts == nil {
			opts = &transport.PutManifestOptions{}
		}
		opts.Tags = tags
	}
	mediaType := spec.MediaType(r.Header.Get("Content-Type"))
	desc, err := h.t.PutManifest(r.Context(), t.name, t.ref, mediaType, data, opts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Location", "/v2/"+t.name+"/manifests/"+string(desc.Digest))
	hdr.Set("Docker-Content-Digest", string(desc.Digest))
	if s := subjectOf(data); s != "" {
		hdr.Set("OCI-Subject", string(s))
	}
	for _, tag := range tags {
		hdr.Add("OCI-Tag", tag)
	}
	writeEmpty(w, http.StatusCreated)
}

// ifMatch turns the If-Match header of a manifest PUT into options. One
// entity tag (quoted or not, weak or not) must be the digest the tag points
// at, which the Transport checks as it puts. "*" or a list of several is
// checked against the tag's current digest first, then put conditionally on
// that digest. A tag that names no manifest, or no digest, fails with 412.
func (h *Handler) ifMatch(r *http.Request, t parsedTarget) (*transport.PutManifestOptions, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil, nil
	}
	tags, wildcard := parseETags(values)
	failed := func() error {
		return statusError(http.StatusPreconditionFailed, transport.CodePreconditionFailed, "If-Match %q does not match the manifest %q of repository %q", strings.Join(values, ", "), t.ref, t.name)
	}
	if len(tags) == 1 && !wildcard {
		d, err := digest.Parse(tags[0])
		if err != nil {
			return nil, failed() // our entity tags are digests: this one matches nothing
		}
		return &transport.PutManifestOptions{IfMatch: d}, nil
	}
	if len(tags) == 0 && !wildcard {
		return nil, failed()
	}
	cur, err := h.t.HeadManifest(r.Context(), t.name, t.ref)
	switch {
	case errors.Is(err, transport.ErrNotFound):
		return nil, failed()
	case err != nil:
		return nil, err
	case wildcard || slices.Contains(tags, string(cur.Digest)):
		return &transport.PutManifestOptions{IfMatch: cur.Digest}, nil
	}
	return nil, failed()
}

// deleteManifest serves DELETE of a manifest or tag. A Transport that can
// delete a tag only as a [transport.TagDeleter] is asked that way.
func (h *Handler) deleteManifest(w *responseWriter, r *http.Request, t parsedTarget, isTag bool) {
	err := h.t.DeleteManifest(r.Context(), t.name, t.ref)
	if td, ok := transport.Find[transport.TagDeleter](h.t); ok && isTag && errors.Is(err, transport.ErrUnsupported) {
		_, err = td.DeleteTag(r.Context(), t.name, t.ref)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeEmpty(w, http.StatusAccepted)
}

// setDigest sets the Docker-Content-Digest and ETag headers of d.
func setDigest(hdr http.Header, d digest.Digest) {
	if d == "" {
		return
	}
	hdr.Set("Docker-Content-Digest", string(d))
	hdr.Set("ETag", `"`+string(d)+`"`)
}

// parseETags parses If-Match or If-None-Match values: a list of entity
// tags, quoted or not, weak (W/) or not, or "*".
func parseETags(values []string) (tags []string, wildcard bool) {
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			e = strings.TrimPrefix(e, "W/")
			if e == "*" {
				wildcard = true
				continue
			}
			if len(e) >= 2 && e[0] == '"' && e[len(e)-1] == '"' {
				e = e[1 : len(e)-1]
			}
			if e != "" {
				tags = append(tags, e)
			}
		}
	}
	return tags, wildcard
}

// etagsMatch reports whether If-None-Match values name d.
func etagsMatch(values []string, d digest.Digest) bool {
	if len(values) == 0 || d == "" {
		return false
	}
	tags, wildcard := parseETags(values)
	return wildcard || slices.Contains(tags, string(d))
}

// subjectOf returns the digest of the subject of a manifest body, or "".
func subjectOf(body []byte) digest.Digest {
	var m struct {
		Subject *ocispec.Descriptor `json:"subject"`
	}
	if json.Unmarshal(body, &m) != nil || m.Subject == nil || m.Subject.Digest.Validate() != nil {
		return ""
	}
	return m.Subject.Digest
}

// requestBody reads a request body and remembers the first error of the
// client's side (a short body, a broken connection), so that the failure it
// causes is answered as the client's fault, never as a 500.
type requestBody struct {
	r    io.Reader
	code transport. // the code of a broken body
		Code
	err error
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// blame returns err, the failure of an operation that read b, as the
// client's fault when reading b failed.
func (b *requestBody) blame(r *http.Request, err error) error {
	if err == nil || b.err == nil {
		return err
	}
	if r.Context().Err() != nil {
		return context.Cause(r.Context())
	}
	var mbe *http.MaxBytesError
	if errors.As(b.err, &mbe) {
		return statusError(http.StatusRequestEntityTooLarge, transport.CodeSizeInvalid, "the request body is larger than %d bytes", mbe.Limit)
	}
	if errors.Is(b.err, io.ErrUnexpectedEOF) {
		return transport.Errorf(transport.CodeSizeInvalid, "the request body is shorter than its Content-Length")
	}
	return transport.Errorf(b.code, "read the request body: %v", b.err)
}
