package fake

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// PutBlob is the requests regkit's HTTP client sends to push a blob to a
// registry that mounts, as a Server does: POST /v2/<name>/blobs/uploads/
// (a mount from the repository into itself), answered 201 when the
// repository has the blob, which ends it, and otherwise 202, followed by
// the PUT of the blob, read through the body faults.
func (t *memTransport) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	path := uploadPath(repo, "")
	_, serr := t.next.StatBlob(ctx, repo, desc.Digest)
	c, err := t.begin(ctx, http.MethodPost, path, false)
	if err != nil {
		return err
	}
	if serr == nil {
		err := t.next.PutBlob(ctx, repo, desc, r)
		c.end(err, http.StatusCreated)
		return err
	}
	c.log(http.StatusAccepted, 0)
	if c, err = t.begin(ctx, http.MethodPut, path, desc.Size != 0); err != nil {
		return err
	}
	err = t.next.PutBlob(ctx, repo, desc, c.reader(r))
	c.end(err, http.StatusCreated)
	return err
}

// MountBlob is POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<from>.
// Where the Store refuses, regkit's HTTP client gets a new upload session
// (202) and sends two more requests (DELETE of the session, HEAD of the
// blob in from) to tell why; the log holds the POST alone, with the
// status of the refusal.
func (t *memTransport) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	c, err := t.begin(ctx, http.MethodPost, uploadPath(repo, ""), false)
	if err != nil {
		return err
	}
	err = t.next.MountBlob(ctx, repo, from, d)
	c.end(err, http.StatusCreated)
	return err
}

// StartUpload is POST /v2/<name>/blobs/uploads/.
func (t *memTransport) StartUpload(ctx context.Context, repo string) (transport.BlobWriter, error) {
	c, err := t.begin(ctx, http.MethodPost, uploadPath(repo, ""), false)
	if err != nil {
		return nil, err
	}
	w, err := t.next.StartUpload(ctx, repo)
	c.end(err, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	return &recordedWriter{BlobWriter: w, t: t, repo: repo}, nil
}

// ResumeUpload is GET /v2/<name>/blobs/uploads/<id>, which tells a
// session's progress.
func (t *memTransport) ResumeUpload(ctx context.Context, repo, id string) (transport.BlobWriter, error) {
	c, err := t.begin(ctx, http.MethodGet, uploadPath(repo, id), false)
	if err != nil {
		return nil, err
	}
	w, err := t.next.ResumeUpload(ctx, repo, id)
	c.end(err, http.StatusNoContent)
	if err != nil {
		return nil, err
	}
	return &recordedWriter{BlobWriter: w, t: t, repo: repo}, nil
}

// recordedWriter is an upload session of the memTransport: each Write is a
// PATCH of the session, Commit its PUT and Cancel its DELETE. regkit's HTTP
// client gathers writes into chunks, so it sends fewer PATCHes than there
// are Writes.
type recordedWriter struct {
	transport.BlobWriter
	t    *memTransport
	repo string
}

// Write is PATCH /v2/<name>/blobs/uploads/<id>, p read through the body
// faults. Its delays have no context to end them early.
func (w *recordedWriter) Write(p []byte) (int, error) {
	c, err := w.t.begin(context.Background(), http.MethodPatch, uploadPath(w.repo, w.ID()), len(p) != 0)
	if err != nil {
		return 0, err
	}
	if c.body() != nil {
		var buf bytes.Buffer
		_, rerr := io.Copy(&buf, c.reader(bytes.NewReader(p)))
		n, err := w.BlobWriter.Write(buf.Bytes())
		if err == nil {
			err = rerr
		}
		c.end(err, http.StatusAccepted)
		return n, err
	}
	n, err := w.BlobWriter.Write(p)
	c.end(err, http.StatusAccepted)
	return n, err
}

// Commit is PUT /v2/<name>/blobs/uploads/<id>?digest=<digest>.
func (w *recordedWriter) Commit(ctx context.Context, want ocispec.Descriptor) error {
	c, err := w.t.begin(ctx, http.MethodPut, uploadPath(w.repo, w.ID()), false)
	if err != nil {
		return err
	}
	err = w.BlobWriter.Commit(ctx, want)
	c.end(err, http.StatusCreated)
	return err
}

// Cancel is DELETE /v2/<name>/blobs/uploads/<id>.
func (w *recordedWriter) Cancel(ctx context.Context) error {
	c, err := w.t.begin(ctx, http.MethodDelete, uploadPath(w.repo, w.ID()), false)
	if err != nil {
		return err
	}
	err = w.BlobWriter.Cancel(ctx)
	c.end(err, http.StatusNoContent)
	return err
}

// Truncate drops the bytes of the session past size, as the Store's
// sessions do ([transport.BlobTruncater]); it is not logged: it stands for
// no request.
func (w *recordedWriter) Truncate(size int64) error {
	bt, ok := w.BlobWriter.(transport.BlobTruncater)
	if !ok {
		return transport.ErrUnsupported
	}
	return bt.Truncate(size)
}
