package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// StartUpload opens an upload session in repo (POST
// /v2/<name>/blobs/uploads/). The [BlobWriter] it returns sends what is
// written at once, in PATCH requests of up to the chunk size (holding back
// fewer bytes than the registry's OCI-Chunk-Min-Length until more come or
// Commit), so that ResumeUpload finds them; write in large pieces, or with
// [io.Copy], which reads a chunk at a time. Writes use ctx, since Write
// takes none. Its ID is the session's absolute URL.
func (c *Client) StartUpload(ctx context.Context, repo string) (BlobWriter, error) {
	if err := clCheckRepo(repo); err != nil {
		return nil, err
	}
	s, err := c.postUpload(ctx, repo, nil, nil)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("POST %s: the registry answered 201 to a request without a blob", clRedact(c.endpoint(repo, "blobs", "uploads", "")))
	}
	return &clWriter{c: c, ctx: ctx, s: s}, nil
}

// ResumeUpload reopens the session id of repo: an ID of a [BlobWriter] of a
// Client of the same registry, or a session id the registry gave. It asks
// the registry how many bytes the session holds (GET of the session, Range
// header). An unknown session gives [ErrBlobUploadUnknown].
func (c *Client) ResumeUpload(ctx context.Context, repo, id string) (BlobWriter, error) {
	if err := clCheckRepo(repo); err != nil {
		return nil, err
	}
	u, err := c.sessionURL(repo, id)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, clRequest{
		method: http.MethodGet, url: u, notFound: CodeBlobUploadUnknown,
		want: []int{http.StatusNoContent, http.StatusOK},
	})
	if err != nil {
		return nil, err
	}
	clClose(resp)
	s := &clSession{loc: u, minChunk: c.caps.chunkMin.Load()}
	if resp.Header.Get("Location") != "" {
		if s.loc, err = clLocation(resp); err != nil {
			return nil, err
		}
	}
	return &clWriter{c: c, ctx: ctx, s: s, sent: clParseUploadRange(resp.Header.Get("Range"))}, nil
}

// sessionURL returns the URL of an upload session id: an absolute URL of the
// registry, a path on it, or an id under /v2/<name>/blobs/uploads/.
func (c *Client) sessionURL(repo, id string) (*url.URL, error) {
	switch {
	case id == "":
		return nil, Errorf(CodeBlobUploadUnknown, "empty upload session id")
	case strings.Contains(id, "://"):
		u, err := url.Parse(id)
		if err != nil || !clSameOrigin(u, &c.base) {
			return nil, Errorf(CodeBlobUploadUnknown, "upload session %q is not on the registry %s", id, c.base.Host)
		}
		return u, nil
	case strings.HasPrefix(id, "/"):
		u, err := c.base.Parse(id)
		if err != nil {
			return nil, Errorf(CodeBlobUploadUnknown, "upload session %q: %v", id, err)
		}
		return u, nil
	}
	return c.endpoint(repo, "blobs", "uploads", id), nil
}

// clParseUploadRange returns the size an upload status Range header
// ("0-<last byte>") says. "0-0" is read as an empty session, which the
// distribution registry also sends for one byte.
func clParseUploadRange(s string) int64 {
	s = strings.TrimPrefix(s, "bytes=")
	first, last, ok := strings.Cut(s, "-")
	if !ok || first != "0" {
		return 0
	}
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n + 1
}

// clWriter is a BlobWriter over an HTTP upload session. It keeps the
// context it was made with for Write, which has none.
type clWriter struct {
	c    *Client
	ctx  context.Context
	s    *clSession
	sent int64  // bytes the registry holds
	buf  []byte // bytes written, not sent: fewer than the chunk minimum
	err  error
	done bool
}

// ID returns the session's current absolute URL.
func (w *clWriter) ID() string { return w.s.loc.String() }

// Size returns the bytes written so far.
func (w *clWriter) Size() int64 { return w.sent + int64(len(w.buf)) }

func (w *clWriter) usable() error {
	if w.done {
		return Errorf(CodeBlobUploadUnknown, "upload session %s has ended", clRedact(w.s.loc))
	}
	return w.err
}

// Write sends p, in chunks of the chunk size, holding back a rest smaller
// than the registry's chunk minimum.
func (w *clWriter) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	chunk := max(w.c.chunkSize, w.s.minChunk)
	data := p
	if len(w.buf) > 0 {
		w.buf = append(w.buf, p...)
		data = w.buf
	}
	for len(data) > 0 && int64(len(data)) >= w.s.minChunk {
		n := min(int64(len(data)), chunk)
		if err := w.c.patch(w.ctx, w.s, bytes.NewReader(data[:n]), w.sent, n); err != nil {
			w.err = err
			return 0, err
		}
		w.sent += n
		data = data[n:]
	}
	w.buf = append(w.buf[:0], data...)
	return len(p), nil
}

// ReadFrom writes what r holds, reading a chunk at a time.
func (w *clWriter) ReadFrom(r io.Reader) (int64, error) {
	chunk := max(w.c.chunkSize, w.s.minChunk)
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
func (w *clWriter) Commit(ctx context.Context, want ocispec.Descriptor) error {
	if err := w.usable(); err != nil {
		return err
	}
	w.done = true
	if err := clCheckDigest(want.Digest); err != nil {
		w.c.cancelSession(ctx, w.s)
		return err
	}
	if want.Size > 0 && w.Size() != want.Size {
		w.c.cancelSession(ctx, w.s)
		return Errorf(CodeSizeInvalid, "blob %s: %d bytes written, want %d", want.Digest, w.Size(), want.Size)
	}
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	if len(w.buf) > 0 {
		h.Set("Content-Range", strconv.FormatInt(w.sent, 10)+"-"+strconv.FormatInt(w.Size()-1, 10))
	}
	resp, err := w.c.do(ctx, clRequest{
		method: http.MethodPut, url: clWithQuery(w.s.loc, "digest", want.Digest.String()), header: h,
		body: bytes.NewReader(w.buf), size: int64(len(w.buf)),
		notFound: CodeBlobUploadUnknown,
		want:     []int{http.StatusCreated, http.StatusOK, http.StatusNoContent},
	})
	if err != nil {
		w.c.cancelSession(ctx, w.s)
		return err
	}
	clClose(resp)
	return nil
}

// Cancel deletes the session.
func (w *clWriter) Cancel(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	resp, err := w.c.deleteSession(ctx, w.s)
	if err != nil {
		return err
	}
	clClose(resp)
	return nil
}
