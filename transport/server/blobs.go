package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// serveBlob serves /v2/<name>/blobs/<digest>.
func (h *Handler) serveBlob(w *responseWriter, r *http.Request, t parsedTarget) {
	d, err := spec.CheckDigest(t.ref)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodHead:
		h.headBlob(w, r, t.name, d)
	case http.MethodGet:
		h.getBlob(w, r, t.name, d)
	case http.MethodDelete:
		if err := h.t.DeleteBlob(r.Context(), t.name, d); err != nil {
			h.fail(w, r, err)
			return
		}
		writeEmpty(w, http.StatusAccepted)
	}
}

// blobHeaders sets the headers of a blob answer but its length.
func blobHeaders(hdr http.Header, d digest.Digest) {
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Accept-Ranges", "bytes")
	setDigest(hdr, d)
}

// headBlob serves HEAD of a blob: its headers, with the blob's size.
func (h *Handler) headBlob(w *responseWriter, r *http.Request, name string, d digest.Digest) {
	desc, err := h.t.StatBlob(r.Context(), name, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	blobHeaders(w.Header(), d)
	w.Header().Set("Content-Length", strconv.FormatInt(desc.Size, 10))
	w.WriteHeader(http.StatusOK)
}

// getBlob serves GET of a blob, whole or, for a Range request, one range
// of it (206). The bytes are copied with [io.Copy], so a reader that
// implements [io.WriterTo] writes them straight into the response. A
// reader that implements [io.Seeker] seeks to a range; others skip to it.
// Requests for several ranges, or in other units than bytes, get the whole
// blob; a malformed or unsatisfiable range gets 416.
func (h *Handler) getBlob(w *responseWriter, r *http.Request, name string, d digest.Digest) {
	rc, desc, err := h.t.GetBlob(r.Context(), name, d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer rc.Close()
	hdr := w.Header()
	if etagsMatch(r.Header.Values("If-None-Match"), d) {
		setDigest(hdr, d)
		writeEmpty(w, http.StatusNotModified)
		return
	}
	size := desc.Size
	rng := r.Header.Get("Range")
	if !ifRange(r, d) {
		rng = "" // the If-Range condition failed: send it all
	}
	start, n, partial, err := parseRange(rng, size)
	if err != nil {
		hdr.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		h.fail(w, r, &httpError{status: http.StatusRequestedRangeNotSatisfiable, err: transport.Wrap(transport.CodeSizeInvalid, err)})
		return
	}
	if !partial {
		blobHeaders(hdr, d)
		hdr.Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		h.copyBody(w, r, rc, -1)
		return
	}
	if err := skipBytes(rc, start); err != nil {
		h.fail(w, r, err)
		return
	}
	blobHeaders(hdr, d)
	hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+n-1, size))
	hdr.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusPartialContent)
	h.copyBody(w, r, rc, n)
}

// copyBody copies n bytes of rc (all of them if n < 0) into the response,
// whose header is written. A failure can no longer be answered: it is only
// logged, unless the client went away.
func (h *Handler) copyBody(w *responseWriter, r *http.Request, rc io.Reader, n int64) {
	var err error
	if n < 0 {
		_, err = io.Copy(w, rc)
	} else {
		_, err = io.CopyN(w, rc, n)
	}
	if err != nil && r.Context().Err() == nil {
		w.failure = fmt.Errorf("send blob: %w", err)
	}
}

// skipBytes moves rc to offset off, by seeking if it can.
func skipBytes(rc io.Reader, off int64) error {
	if off == 0 {
		return nil
	}
	if s, ok := rc.(io.Seeker); ok {
		_, err := s.Seek(off, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, rc, off)
	return err
}

// ifRange reports whether the If-Range condition of r, if any, holds:
// it must name the blob's entity tag (dates never match, as blobs have
// none).
func ifRange(r *http.Request, d digest.Digest) bool {
	v := r.Header.Get("If-Range")
	if v == "" {
		return true
	}
	tags, _ := parseETags([]string{v})
	return len(tags) == 1 && tags[0] == string(d) && !strings.HasPrefix(strings.TrimSpace(v), "W/")
}

// errSrvRange is matched by the errors of parseRange.
var errSrvRange = errors.New("range not satisfiable")

// parseRange parses a Range header for a blob of size bytes: one range,
// "bytes=<first>-<last>", "bytes=<first>-" or "bytes=-<suffix length>". It
// returns the range's start and length, and partial true when the range is
// to be served. An empty header, another unit or several ranges give
// partial false (the whole blob is served); a malformed or unsatisfiable
// range gives an error.
func parseRange(h string, size int64) (start, n int64, partial bool, err error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, 0, false, nil
	}
	unit, spec, ok := strings.Cut(h, "=")
	if !ok {
		return 0, 0, false, fmt.Errorf("%w: malformed Range %q", errSrvRange, h)
	}
	if !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	bad := fmt.Errorf("%w: Range %q for a blob of %d bytes", errSrvRange, h, size)
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, false, bad
	}
	if first == "" { // the last n bytes
		n, ok := parseUint(last)
		if !ok || n == 0 || size == 0 {
			return 0, 0, false, bad
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	start, ok = parseUint(first)
	if !ok || start >= size {
		return 0, 0, false, bad
	}
	end := size - 1
	if last != "" {
		e, ok := parseUint(last)
		if !ok || e < start {
			return 0, 0, false, bad
		}
		end = min(e, end)
	}
	return start, end - start + 1, true, nil
}

// parseUint parses a non-empty string of decimal digits.
func parseUint(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
