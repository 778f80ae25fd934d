package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// maxResumes is how many times a blob read resumes after its connection
// broke.
const maxResumes = 3

// StatBlob returns the digest and size of blob d of repo (HEAD
// /v2/<name>/blobs/<digest>), or [transport.ErrBlobUnknown].
func (c *Client) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	if err := checkRepo(repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := checkDigest(d); err != nil {
		return ocispec.Descriptor{}, err
	}
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodHead, url: c.endpoint(repo, "blobs", d.String()),
		notFound: transport.CodeBlobUnknown, want: []int{http.StatusOK},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	drainClose(resp)
	if err := checkBlobDigest(resp, d); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{Digest: d, Size: resp.ContentLength}, nil
}

// checkBlobDigest checks the Docker-Content-Digest of a blob response, if
// any, against d, when both use the same algorithm.
func checkBlobDigest(resp *http.Response, d digest.Digest) error {
	h := digest.Digest(resp.Header.Get("Docker-Content-Digest"))
	if h == "" {
		return nil
	}
	if err := h.Validate(); err != nil {
		return &transport.Error{Code: transport.CodeDigestInvalid, Message: fmt.Sprintf("blob %s: registry sent Docker-Content-Digest %q", d, h), Err: err}
	}
	if h.Algorithm() == d.Algorithm() && h != d {
		return transport.Errorf(transport.CodeDigestInvalid, "blob %s: registry answered with digest %s", d, h)
	}
	return nil
}

// GetBlob opens blob d of repo (GET /v2/<name>/blobs/<digest>), following
// redirects to object storage on other hosts, which get no credentials
// (see [WithRedirectRoundTripper]). It does not verify the bytes. The
// descriptor's size is the response's Content-Length (-1 if the registry
// sends none).
//
// If the connection breaks while the blob is read, the reader asks for the
// rest with a Range request, at most 3 times, and fails if the registry
// cannot serve ranges.
func (c *Client) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	if err := checkRepo(repo); err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if err := checkDigest(d); err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	u := c.endpoint(repo, "blobs", d.String())
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodGet, url: u,
		header:   http.Header{"Accept-Encoding": {"identity"}},
		notFound: transport.CodeBlobUnknown, want: []int{http.StatusOK},
	})
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if err := checkBlobDigest(resp, d); err != nil {
		drainClose(resp)
		return nil, ocispec.Descriptor{}, err
	}
	r := &blobReader{c: c, ctx: ctx, d: d, orig: u, final: resp.Request.URL, body: resp.Body, size: resp.ContentLength}
	return r, ocispec.Descriptor{Digest: d, Size: resp.ContentLength}, nil
}

// blobReader reads a blob and resumes with Range requests where the
// connection breaks. It keeps the context of GetBlob, whose request the
// body belongs to anyway.
type blobReader struct {
	c           *Client
	ctx         context.Context
	d           digest.Digest
	orig, final *url.URL
	body        io.ReadCloser
	off, size   int64
	resumes     int
	err         error
}

func (r *blobReader) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || err == io.EOF {
			return n, err
		}
		if rerr := r.resume(err); rerr != nil {
			r.err = rerr
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the broken body with the rest of the blob, or says why it
// cannot.
func (r *blobReader) resume(cause error) error {
	fail := func(why string) error {
		return fmt.Errorf("read blob %s: %w (not resumed: %s)", r.d, cause, why)
	}
	switch {
	case r.ctx.Err() != nil:
		return fmt.Errorf("read blob %s: %w", r.d, cause)
	case r.resumes >= maxResumes:
		return fail(fmt.Sprintf("resumed %d times already", r.resumes))
	case r.c.caps.rangeReq.get() == triNo:
		return fail("the registry does not serve ranges")
	}
	r.resumes++
	_ = r.body.Close()
	body, err := r.rangeGet(r.final)
	if err != nil && r.final.String() != r.orig.String() {
		body, err = r.rangeGet(r.orig)
	}
	if err != nil {
		r.body = http.NoBody
		return fail(err.Error())
	}
	r.body = body
	return nil
}

// rangeGet asks u for the blob from the reader's offset on.
func (r *blobReader) rangeGet(u *url.URL) (io.ReadCloser, error) {
	resp, err := r.c.do(r.ctx, reqSpec{
		method: http.MethodGet, url: u,
		header: http.Header{
			"Range":           {"bytes=" + strconv.FormatInt(r.off, 10) + "-"},
			"Accept-Encoding": {"identity"},
		},
		notFound: transport.CodeBlobUnknown, want: []int{http.StatusPartialContent, http.StatusOK},
	})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		drainClose(resp)
		r.c.caps.rangeReq.set(triNo)
		return nil, errors.New("the registry answered a Range request with the whole blob")
	}
	start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
	if !ok || start != r.off || (r.size >= 0 && total >= 0 && total != r.size) {
		drainClose(resp)
		return nil, fmt.Errorf("Content-Range %q does not continue at byte %d of %d", resp.Header.Get("Content-Range"), r.off, r.size)
	}
	r.c.caps.rangeReq.set(triYes)
	r.final = resp.Request.URL
	return resp.Body, nil
}

// parseContentRange parses "bytes <start>-<end>/<total>"; total is -1 for
// "*".
func parseContentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	first, _, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

func (r *blobReader) Close() error {
	r.err = errors.New("read of a closed blob reader")
	return r.body.Close()
}

// DeleteBlob deletes blob d of repo (DELETE /v2/<name>/blobs/<digest>).
func (c *Client) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	if err := checkDigest(d); err != nil {
		return err
	}
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodDelete, url: c.endpoint(repo, "blobs", d.String()),
		notFound: transport.CodeBlobUnknown,
		want:     []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
	})
	if err != nil {
		return err
	}
	drainClose(resp)
	return nil
}

// MountBlob mounts blob d of repository from into repo (POST
// /v2/<name>/blobs/uploads/?mount=<digest>&from=<from>). When the registry
// opens an upload session instead (202), the client closes it and fails
// with [transport.ErrBlobUnknown] if from lacks the blob, [transport.ErrUnsupported] otherwise;
// the caller then copies the blob.
func (c *Client) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	for _, r := range []string{repo, from} {
		if err := checkRepo(r); err != nil {
			return err
		}
	}
	if err := checkDigest(d); err != nil {
		return err
	}
	s, err := c.postUpload(ctx, repo, url.Values{"mount": {d.String()}, "from": {from}}, nil)
	if err != nil || s == nil {
		return err
	}
	c.cancelSession(ctx, s)
	if _, err := c.StatBlob(ctx, from, d); errors.Is(err, transport.ErrNotFound) {
		return transport.Errorf(transport.CodeBlobUnknown, "blob %s is not in %s, so it cannot be mounted into %s", d, from, repo)
	}
	return transport.Errorf(transport.CodeUnsupported, "the registry did not mount blob %s from %s into %s", d, from, repo)
}
