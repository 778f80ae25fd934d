package server

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// serveUploadStart serves POST /v2/<name>/blobs/uploads/: a mount
// (?mount=), a single-POST upload (?digest=) or a new session.
func (h *Handler) serveUploadStart(w *responseWriter, r *http.Request, t parsedTarget) {
	q := r.URL.Query()
	switch {
	case q.Has("mount"):
		h.mountBlob(w, r, t.name, q)
	case q.Has("digest"):
		h.postBlob(w, r, t.name, q.Get("digest"))
	default:
		h.startUpload(w, r, t.name)
	}
}

// mountBlob serves POST ?mount=<digest>&from=<repo>: 201 if the blob was
// mounted, else a new session (202), as the spec asks when a registry
// cannot mount. Without from, the blob counts as mounted when the
// repository already holds it.
func (h *Handler) mountBlob(w *responseWriter, r *http.Request, name string, q url.Values) {
	d, err := spec.CheckDigest(q.Get("mount"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	from := q.Get("from")
	if from != "" {
		if err := spec.CheckName(from); err != nil {
			h.fail(w, r, err)
			return
		}
		err = h.t.MountBlob(r.Context(), name, from, d)
	} else {
		_, err = h.t.StatBlob(r.Context(), name, d)
	}
	if err == nil {
		blobCreated(w, name, d)
		return
	}
	if !errors.Is(err, transport.ErrNotFound) && !errors.Is(err, transport.ErrUnsupported) &&
		!errors.Is(err, transport.ErrDenied) && !errors.Is(err, transport.ErrUnauthorized) {
		h.fail(w, r, err)
		return
	}
	h.startUpload(w, r, name)
}

// postBlob serves POST ?digest=<digest>, a whole blob in one request. Its
// size is the Content-Length, when the request has one.
func (h *Handler) postBlob(w *responseWriter, r *http.Request, name, dgst string) {
	d, err := spec.CheckDigest(dgst)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body := &requestBody{r: r.Body, code: transport.CodeBlobUploadInvalid}
	desc := ocispec.Descriptor{Digest: d, Size: max(r.ContentLength, 0)}
	if err := h.t.PutBlob(r.Context(), name, desc, body); err != nil {
		h.fail(w, r, body.blame(r, err))
		return
	}
	blobCreated(w, name, d)
}

// startUpload opens a session: 202 with its Location. A body is ignored,
// as the distribution registry does: the bytes of a session come by PATCH
// or PUT.
func (h *Handler) startUpload(w *responseWriter, r *http.Request, name string) {
	bw, err := h.t.StartUpload(r.Context(), name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	uploadHeaders(w.Header(), name, bw)
	writeEmpty(w, http.StatusAccepted)
}

// serveUpload serves /v2/<name>/blobs/uploads/<id>: status (GET, HEAD),
// a chunk (PATCH), the close (PUT) and cancel (DELETE). Requests to one
// session are served one at a time.
func (h *Handler) serveUpload(w *responseWriter, r *http.Request, t parsedTarget) {
	id, ok := decodeID(t.ref)
	if !ok {
		h.fail(w, r, transport.Errorf(transport.CodeBlobUploadUnknown, "upload %q not found in repository %q", t.ref, t.name))
		return
	}
	unlock, err := h.lockSession(w, r, t.name+"\x00"+id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer unlock()
	bw, err := h.t.ResumeUpload(r.Context(), t.name, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		uploadHeaders(w.Header(), t.name, bw)
		writeEmpty(w, http.StatusNoContent)
	case http.MethodDelete:
		if err := bw.Cancel(r.Context()); err != nil {
			h.fail(w, r, err)
			return
		}
		writeEmpty(w, http.StatusNoContent)
	case http.MethodPatch:
		if err := h.writeChunk(w, r, t.name, bw); err != nil {
			h.fail(w, r, err)
			return
		}
		// bw lives for this request only: a writer that holds bytes back
		// (a Client's, for its upstream's chunk minimum) sends them now.
		if f, ok := bw.(transport.Flusher); ok {
			if err := f.Flush(); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		uploadHeaders(w.Header(), t.name, bw)
		writeEmpty(w, http.StatusAccepted)
	case http.MethodPut:
		h.closeUpload(w, r, t.name, bw)
	}
}

// closeUpload serves PUT ?digest=<digest>: the last chunk, if the request
// has a body, then the commit. A missing or malformed digest cancels the
// session, so that it does not linger.
func (h *Handler) closeUpload(w *responseWriter, r *http.Request, name string, bw transport.BlobWriter) {
	d, err := spec.CheckDigest(r.URL.Query().Get("digest"))
	if err != nil {
		_ = bw.Cancel(r.Context())
		h.fail(w, r, err)
		return
	}
	if err := h.writeChunk(w, r, name, bw); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := bw.Commit(r.Context(), ocispec.Descriptor{Digest: d}); err != nil {
		h.fail(w, r, err)
		return
	}
	blobCreated(w, name, d)
}

// maxChunk is the largest chunk a Content-Range may announce: 1 TiB,
// far above any blob, and far below where the arithmetic on it overflows.
const maxChunk = 1 << 40

// writeChunk writes the body of r into the session bw. With a
// Content-Range, the chunk must start where the session ends (else 416,
// with the session's Range), be at most maxChunk bytes (else 416) and
// hold exactly the bytes the range says. A chunk refused once its bytes
// began to arrive is undone when bw is a [transport.BlobTruncater]: the session then
// holds what it held before.
func (h *Handler) writeChunk(w *responseWriter, r *http.Request, name string, bw transport.BlobWriter) error {
	limit := int64(-1)
	cr := r.Header.Get("Content-Range")
	if cr != "" {
		first, last, ok := parseContentRange(cr)
		if !ok {
			return transport.Errorf(transport.CodeBlobUploadInvalid, "malformed Content-Range %q, want <first byte>-<last byte>", cr)
		}
		// last >= first >= 0, so last-first cannot overflow; last-first+1
		// could.
		if last-first >= maxChunk {
			uploadHeaders(w.Header(), name, bw)
			return &httpError{status: http.StatusRequestedRangeNotSatisfiable,
				err: transport.Errorf(transport.CodeSizeInvalid, "Content-Range %q announces a chunk larger than %d bytes", cr, int64(maxChunk))}
		}
		if size := bw.Size(); first != size {
			uploadHeaders(w.Header(), name, bw)
			return &httpError{status: http.StatusRequestedRangeNotSatisfiable,
				err: transport.Errorf(transport.CodeBlobUploadInvalid, "the chunk starts at byte %d, but the session holds %d bytes", first, size)}
		}
		limit = last - first + 1
		if r.ContentLength >= 0 && r.ContentLength != limit {
			return transport.Errorf(transport.CodeSizeInvalid, "Content-Length %d does not match Content-Range %q", r.ContentLength, cr)
		}
	}
	before := bw.Size()
	if err := copyChunk(r, bw, cr, limit); err != nil {
		if t, ok := bw.(transport.BlobTruncater); ok && bw.Size() != before {
			_ = t.Truncate(before) // a session that ended has nothing to undo
		}
		return err
	}
	return nil
}

// copyChunk copies the body of r into bw: limit bytes exactly, the
// length Content-Range cr says, or all of it when limit is negative.
func copyChunk(r *http.Request, bw transport.BlobWriter, cr string, limit int64) error {
	body := &requestBody{r: r.Body, code: transport.CodeBlobUploadInvalid}
	var src io.Reader = body
	if limit >= 0 {
		src = io.LimitReader(body, limit)
	} else if r.ContentLength > 0 {
		// The body ends there anyway; the limit tells a writer that
		// implements io.ReaderFrom how many bytes come, so that it can
		// size its memory once.
		src = io.LimitReader(body, r.ContentLength)
	}
	n, err := io.Copy(bw, src)
	if err != nil {
		return body.blame(r, err)
	}
	if limit >= 0 {
		if n < limit {
			return transport.Errorf(transport.CodeSizeInvalid, "the chunk has %d bytes, Content-Range %q says %d", n, cr, limit)
		}
		var one [1]byte
		if m, _ := io.ReadFull(body, one[:]); m > 0 {
			return transport.Errorf(transport.CodeSizeInvalid, "the chunk has more bytes than Content-Range %q says", cr)
		}
	}
	return nil
}

// parseContentRange parses the Content-Range of a chunk:
// "<first>-<last>", as the spec writes it, also accepted with a "bytes "
// or "bytes=" prefix and a "/<total>" or "/*" suffix.
func parseContentRange(s string) (first, last int64, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) > 6 && strings.EqualFold(s[:6], "bytes ") || len(s) > 6 && strings.EqualFold(s[:6], "bytes=") {
		s = strings.TrimSpace(s[6:])
	}
	if rng, total, found := strings.Cut(s, "/"); found {
		if _, ok := parseUint(total); !ok && total != "*" {
			return 0, 0, false
		}
		s = rng
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	first, ok1 := parseUint(a)
	last, ok2 := parseUint(b)
	if !ok1 || !ok2 || last < first {
		return 0, 0, false
	}
	return first, last, true
}

// uploadHeaders sets the Location, Docker-Upload-UUID and Range headers
// of the session bw.
func uploadHeaders(hdr http.Header, name string, bw transport.BlobWriter) {
	id := encodeID(bw.ID())
	hdr.Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
	hdr.Set("Docker-Upload-UUID", id)
	hdr.Set("Range", uploadRange(bw.Size()))
}

// uploadRange is the Range header of a session of size bytes,
// "0-<last byte>". An empty session gets "0-0", as the distribution
// registry sends (clients written for it expect that, not "0--1" or no
// header), although it cannot be told from one byte. A client that needs
// to know sends its next chunk: a 416 answer means the session does not
// end where the chunk starts, and carries the Range again, which then
// means the other of the two.
func uploadRange(size int64) string {
	if size <= 0 {
		return "0-0"
	}
	return "0-" + strconv.FormatInt(size-1, 10)
}

// blobCreated answers 201 for the blob d of repository name.
func blobCreated(w http.ResponseWriter, name string, d digest.Digest) {
	w.Header().Set("Location", "/v2/"+name+"/blobs/"+string(d))
	w.Header().Set("Docker-Content-Digest", string(d))
	writeEmpty(w, http.StatusCreated)
}

// encodeID makes a session ID one safe path segment: as it is when it
// holds only letters, digits, '_' and '-', else "~" and its base64url
// encoding (a proxied session's ID is the upstream URL).
func encodeID(id string) string {
	if safeID(id) {
		return id
	}
	return "~" + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// decodeID reverses encodeID; ok is false for a segment it cannot
// have made.
func decodeID(seg string) (id string, ok bool) {
	if enc, found := strings.CutPrefix(seg, "~"); found {
		b, err := base64.RawURLEncoding.DecodeString(enc)
		return string(b), err == nil && len(b) > 0
	}
	return seg, safeID(seg)
}

func safeID(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// sessionLocks serializes the requests to each upload session, as a
// [transport.BlobWriter] is not safe for concurrent use and a chunk's offset must
// not change between its check and its write. Its zero value is ready.
type sessionLocks struct {
	mu sync.Mutex
	m  map[string]*sessionLock
}

type sessionLock struct {
	ch   chan struct{} // holds a token while locked
	refs int           // holders and waiters; guarded by sessionLocks.mu
}

// lock locks key, or fails when ctx is done first. unlock releases it.
func (l *sessionLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*sessionLock)
	}
	e := l.m[key]
	if e == nil {
		e = &sessionLock{ch: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if e.refs--; e.refs == 0 {
			delete(l.m, key)
		}
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
