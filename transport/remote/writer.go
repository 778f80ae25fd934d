package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/transport"
)

// StartUpload opens an upload session in repo (POST
// /v2/<name>/blobs/uploads/). The [transport.BlobWriter] it returns sends what is
// written at once, in PATCH requests of up to the chunk size (holding back
// fewer bytes than the registry's OCI-Chunk-Min-Length until more come or
// Commit), so that ResumeUpload finds them; write in large pieces, or with
// [io.Copy], which reads a chunk at a time. Writes use ctx, since Write
// takes none. Its ID is the session's absolute URL. Its Size counts the
// bytes the registry has acknowledged, not those held back; its Flush
// method (func() error) sends those at once. A chunk minimum above
// [DefaultMaxChunkMin] (or the chunk size, if larger), which the writer
// would have to hold in memory, fails its writes with a [*transport.LimitError].
func (c *Client) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	s, err := c.postUpload(ctx, repo, nil, nil)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("POST %s: the registry answered 201 to a request without a blob", redact(c.endpoint(repo, "blobs", "uploads", "")))
	}
	return &blobWriter{c: c, ctx: ctx, s: s}, nil
}

// ResumeUpload reopens the session id of repo: an ID of a [transport.BlobWriter] of a
// Client of the same registry, or a session id the registry gave. It asks
// the registry how many bytes the session holds (GET of the session, Range
// header). An unknown session gives [transport.ErrBlobUploadUnknown]. An id that is
// not a session of repo on the registry's own scheme, host and port (a URL
// under /v2/<name>/blobs/uploads/) is refused with [transport.ErrBlobUploadInvalid]
// without a request.
//
// A Range of "0-0" means either an empty session or one of one byte (the
// distribution registry sends it for both). The writer starts from none;
// should the registry refuse its first chunk (416) because the session holds
// one byte, it sends the chunk again after that byte, and Commit takes the
// one byte into account.
func (c *Client) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	u, err := c.sessionURL(repo, id)
	if err != nil {
		return nil, err
	}
	s := &uploadSession{repo: repo, loc: u, minChunk: c.caps.chunkMin.Load()}
	rng, err := c.sessionStatus(ctx, s)
	if err != nil {
		return nil, err
	}
	return &blobWriter{c: c, ctx: ctx, s: s, sent: parseUploadRange(rng), maybeOne: isEmptyRange(rng)}, nil
}

// sessionStatus asks the registry about session s (GET of the session),
// follows its Location, and returns its Range header, which says how many
// bytes the session holds.
func (c *Client) sessionStatus(ctx context.Context, s *uploadSession) (string, error) {
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodGet, url: s.loc, notFound: transport.CodeBlobUploadUnknown,
		want: []int{http.StatusNoContent, http.StatusOK},
	})
	if err != nil {
		return "", err
	}
	drainClose(resp)
	if err := c.follow(s, resp); err != nil {
		return "", err
	}
	return resp.Header.Get("Range"), nil
}

// sessionURL returns the URL of an upload session id of repo: an absolute
// URL of the registry, a path on it, or an id under
// /v2/<name>/blobs/uploads/. It must be a session of repo on the registry
// (see Client.checkUploadURL).
func (c *Client) sessionURL(repo, id string) (*url.URL, error) {
	var u *url.URL
	switch {
	case id == "":
		return nil, transport.Errorf(transport.CodeBlobUploadUnknown, "empty upload session id")
	case strings.Contains(id, "://") || strings.HasPrefix(id, "/"):
		// A scheme-relative "//host/…" is resolved against the registry
		// first, then checked like any other.
		var err error
		if u, err = c.base.Parse(id); err != nil {
			return nil, &transport.Error{Code: transport.CodeBlobUploadInvalid, Message: "upload session id is not a URL", Err: err}
		}
	default:
		u = c.endpoint(repo, "blobs", "uploads", id)
	}
	if err := c.checkUploadURL(repo, u); err != nil {
		return nil, err
	}
	return u, nil
}

// parseUploadRange returns the size an upload status Range header
// ("0-<last byte>") says. "0-0" is read as an empty session, which the
// distribution registry also sends for one byte (see isEmptyRange).
func parseUploadRange(s string) int64 {
	s = strings.TrimPrefix(s, "bytes=")
	first, last, ok := strings.Cut(s, "-")
	if !ok || first != "0" {
		return 0
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil || n <= 0 || n == math.MaxInt64 {
		return 0
	}
	return n + 1
}

// isEmptyRange reports whether an upload status Range header is "0-0",
// which registries send both for an empty session and for one of one byte.
func isEmptyRange(s string) bool {
	return strings.TrimPrefix(s, "bytes=") == "0-0"
}

// blobWriter is a BlobWriter over an HTTP upload session. It keeps the
// context it was made with for Write, which has none.
type blobWriter struct {
	c    *Client
	ctx  context.Context
	s    *uploadSession
	sent int64  // bytes the registry holds
	buf  []byte // bytes written, not sent: fewer than the chunk minimum
	// maybeOne says that sent is 0 only because the session's Range was
	// "0-0": the session may hold one byte.
	maybeOne bool
	err      error
	done     bool
}

// ID returns the session's current absolute URL.
func (w *blobWriter) ID() string { return w.s.loc.String() }

// Size returns the bytes the registry has acknowledged. Bytes written but
// held back (fewer than the registry's chunk minimum, sent with more, by
// Flush or by Commit) are not counted.
func (w *blobWriter) Size() int64 { return w.sent }

func (w *blobWriter) usable() error {
	if w.done {
		return transport.Errorf(transport.CodeBlobUploadUnknown, "upload session %s has ended", redact(w.s.loc))
	}
	return w.err
}

// resync reads err, the failure of a chunk sent at w.sent: when the registry
// said (416) what the session holds, the writer adopts it. It reports true
// when that was the one byte a "0-0" status left open, so that the chunk,
// still in memory, can be sent again after it.
func (w *blobWriter) resync(err error) bool {
	var re *rangeError
	if !errors.As(err, &re) || re.held < 0 {
		return false
	}
	if w.maybeOne && w.sent == 0 && re.held == 1 {
		w.sent, w.maybeOne = 1, false
		return true
	}
	w.sent = re.held
	return false
}

// Write sends p, in chunks of the chunk size, holding back a rest smaller
// than the registry's chunk minimum.
func (w *blobWriter) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	chunk, err := w.c.heldChunk(w.s)
	if err != nil {
		w.err = err
		return 0, err
	}
	data := p
	if len(w.buf) > 0 {
		w.buf = append(w.buf, p...)
		data = w.buf
	}
	for len(data) > 0 && int64(len(data)) >= w.s.minChunk {
		n := min(int64(len(data)), chunk)
		if err := w.send(data[:n]); err != nil {
			w.err = err
			return 0, err
		}
		data = data[n:]
	}
	w.buf = append(w.buf[:0], data...)
	return len(p), nil
}

// Flush sends what is held back as a chunk of its own, smaller than the
// registry's chunk minimum though it is. A [server.Handler] that serves this writer
// as a proxy flushes after every chunk its own client sends, since the
// writer, and anything it holds, is gone when that request ends: each
// client chunk then reaches the upstream whole, and the client's chunk size
// is the client's to choose.
func (w *blobWriter) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.send(w.buf); err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// send sends chunk after the w.sent bytes the session holds. After a
// transient failure it waits as the client's retry policy says, asks the
// session how many bytes it holds, and sends what it lacks of the chunk:
// the registry may have kept all of it, or part of it, or none.
func (w *blobWriter) send(chunk []byte) error {
	n := int64(len(chunk))
	for done, attempt := int64(0), 1; ; attempt++ {
		err := w.c.patch(w.ctx, w.s, bytes.NewReader(chunk[done:]), w.sent+done, n-done)
		if err != nil && done == 0 && w.resync(err) {
			err = w.c.patch(w.ctx, w.s, bytes.NewReader(chunk), w.sent, n)
			w.resync(err)
		}
		if err == nil {
			w.sent += n
			w.maybeOne = false
			return nil
		}
		if !IsRetryable(err) {
			return err
		}
		if err := w.c.pause(w.ctx, "PATCH "+redact(w.s.loc), attempt, err); err != nil {
			return err
		}
		rng, serr := w.c.sessionStatus(w.ctx, w.s)
		if serr != nil {
			return fmt.Errorf("%w; then asking the session what it holds: %w", err, serr)
		}
		held := parseUploadRange(rng)
		if held < w.sent || held > w.sent+n {
			return fmt.Errorf("%w; then the session held %d bytes, not between %d and %d", err, held, w.sent, w.sent+n)
		}
		if done = held - w.sent; done == n {
			w.sent += n
			w.maybeOne = false
			return nil
		}
	}
}

// ReadFrom writes what r holds, reading a chunk at a time.
func (w *blobWriter) ReadFrom(r io.Reader) (int64, error) {
	chunk, err := w.c.heldChunk(w.s)
	if err != nil {
		w.err = err
		return 0, err
	}
	var total int64
	var b bytes.Buffer
	for {
		b.Reset()
		n, err := b.ReadFrom(io.LimitReader(r, chunk))
		total += n
		if n > 0 {
			if _, werr := w.Write(b.Bytes()); werr != nil {
				return total, werr
			}
		}
		if err != nil || n < chunk {
			return total, err
		}
	}
}

// Commit sends what is held back and closes the session with PUT
// <location>?digest=. On failure the session is deleted.
func (w *blobWriter) Commit(ctx context.Context, want ocispec.Descriptor) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.done = true
	if err := checkDigest(want.Digest); err != nil {
		w.c.cancelSession(ctx, w.s)
		return err
	}
	// A session resumed at "0-0" may hold one byte more than counted.
	total := w.sent + int64(len(w.buf))
	if want.Size > 0 && total != want.Size && !(w.maybeOne && total+1 == want.Size) {
		w.c.cancelSession(ctx, w.s)
		return transport.Errorf(transport.CodeSizeInvalid, "blob %s: %d bytes written, want %d", want.Digest, total, want.Size)
	}
	if err := w.commit(ctx, want.Digest); err != nil {
		w.c.cancelSession(ctx, w.s)
		return err
	}
	return nil
}

// commit closes the session with what is held back. After a transient
// failure it waits as the client's retry policy says, and puts again unless
// the repository has the blob by then (the put that failed may have stored
// it).
func (w *blobWriter) commit(ctx context.Context, d digest.Digest) error {
	for attempt := 1; ; attempt++ {
		err := w.put(ctx, d)
		if err != nil && w.resync(err) {
			err = w.put(ctx, d)
		}
		if err == nil || !IsRetryable(err) {
			return err
		}
		if err := w.c.pause(ctx, "PUT "+redact(w.s.loc), attempt, err); err != nil {
			return err
		}
		if _, serr := w.c.StatBlob(ctx, w.s.repo, d); serr == nil {
			return nil
		} else if !errors.Is(serr, transport.ErrNotFound) {
			return fmt.Errorf("%w; then asking whether the blob is there: %w", err, serr)
		}
	}
}

// put closes the session with what is held back, at w.sent.
func (w *blobWriter) put(ctx context.Context, d digest.Digest) error {
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	if len(w.buf) > 0 {
		h.Set("Content-Range", strconv.FormatInt(w.sent, 10)+"-"+strconv.FormatInt(w.sent+int64(len(w.buf))-1, 10))
	}
	resp, err := w.c.do(ctx, reqSpec{
		method: http.MethodPut, url: withQuery(w.s.loc, "digest", d.String()), header: h,
		body: bytes.NewReader(w.buf), size: int64(len(w.buf)),
		notFound: transport.CodeBlobUploadUnknown,
		want:     []int{http.StatusCreated, http.StatusOK, http.StatusNoContent, http.StatusRequestedRangeNotSatisfiable},
	})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return rangeMismatch(resp, w.sent)
	}
	drainClose(resp)
	return nil
}

// Cancel deletes the session.
func (w *blobWriter) Cancel(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	resp, err := w.c.deleteSession(ctx, w.s)
	if err != nil {
		return err
	}
	drainClose(resp)
	return nil
}

// rangeError is a registry's 416 answer to a chunk: the session does not
// hold the bytes the client sent the chunk after. It matches
// [transport.ErrBlobUploadInvalid].
type rangeError struct {
	// held is how many bytes the session holds, by the answer's Range
	// header, or -1 when it has none.
	held int64
	err  error
}

func (e *rangeError) Error() string { return e.err.Error() }
func (e *rangeError) Unwrap() error { return e.err }

// rangeMismatch reads a 416 answer to a chunk sent at offset off, and
// closes it. The answer's Range says what the session holds; its "0-0",
// which means both none and one byte, means the one the chunk did not
// start at.
func rangeMismatch(resp *http.Response, off int64) *rangeError {
	held := int64(-1)
	rng := strings.TrimPrefix(resp.Header.Get("Range"), "bytes=")
	if first, last, ok := strings.Cut(rng, "-"); ok && first == "0" {
		if n, err := strconv.ParseInt(last, 10, 64); err == nil && n >= 0 && n < math.MaxInt64 {
			held = n + 1
			if n == 0 && off != 0 {
				held = 0
			}
		}
	}
	where := origin.Redact(resp.Request.URL)
	rerr := responseError(resp, transport.CodeBlobUploadUnknown)
	var e *transport.Error
	switch {
	case held < 0:
		e = transport.Errorf(transport.CodeBlobUploadInvalid, "upload session %s does not hold the %d bytes the client sent before this chunk, and its answer does not say what it holds", where, off)
	case held < off:
		e = transport.Errorf(transport.CodeBlobUploadInvalid, "upload session %s holds %d bytes, fewer than the %d the client sent before this chunk: the client no longer has them to send again", where, held, off)
	case held > off:
		e = transport.Errorf(transport.CodeBlobUploadInvalid, "upload session %s holds %d bytes, more than the %d the client sent before this chunk: another writer added to it", where, held, off)
	default:
		e = transport.Errorf(transport.CodeBlobUploadInvalid, "upload session %s refused a chunk at byte %d, where it ends", where, off)
	}
	return &rangeError{held: held, err: fmt.Errorf("%w: %w", e, rerr)}
}
