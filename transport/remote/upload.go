package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// uploadSession is an open upload session.
type uploadSession struct {
	// repo is the repository the session uploads to.
	repo string
	// loc is the session's current Location, absolute, checked by
	// Client.checkUploadURL.
	loc *url.URL
	// minChunk is the smallest chunk the registry takes (0: any).
	minChunk int64
}

// PutBlob uploads the blob desc describes from r, in as few requests as the
// registry allows, reading r at most once:
//
//  1. It asks whether the repository has the blob (then r is never read).
//     Until the client knows that the registry ignores mounts, it asks with
//     POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<name>, a mount
//     from the repository itself: 201 means the repository has the blob. A
//     202 (a new session) means that it lacks the blob on a registry that
//     mounts, but nothing on one that ignores mounts, so the client's first
//     202 is followed by one HEAD /v2/<name>/blobs/<digest>, whose answer
//     it remembers: 200, the registry ignores mounts (the session is
//     deleted); 404, its 202s mean "missing". Other layers wait for that
//     answer before they ask, so a registry that ignores mounts is not
//     sent a mount request for each upload under way. An image config, new with
//     almost every image, does not make that HEAD: its 202 is taken to mean
//     "missing". A registry that ignores mounts, or refuses them (a 4xx
//     other than 401, 403, 404 and 429; a 404 says that the repository does
//     not exist yet), is asked with HEAD /v2/<name>/blobs/<digest> from then
//     on: 200 means it has the blob.
//  2. A blob the repository lacks goes in the session the 202 opened.
//     Otherwise, a blob of at most [WithSinglePOSTMax] bytes goes in one
//     POST ?digest= (remembered if the registry ignores its body: it then
//     gets the bytes in a PUT to the session it opened). Until the client
//     knows that the registry stores such a body, only blobs of at most
//     64 KiB try it, so a registry that ignores it is sent little twice.
//     Others open a session with a plain POST.
//  3. A blob of known size goes in one streamed PUT <location>?digest=,
//     unless [WithChunkSize] was given and it is larger; those, and blobs
//     of unknown size, go in PATCH chunks, each of the registry's
//     OCI-Chunk-Min-Length at least, then a PUT. A blob of unknown size is
//     held in memory a chunk at a time: a chunk minimum above
//     [DefaultMaxChunkMin] (or the chunk size, if larger) fails it with a
//     [*transport.LimitError] before anything is read.
//
// So a client learns whether its registry mounts from the first blob it
// asks about: a 201 (free) or a HEAD 404 on a registry that mounts, a HEAD
// 200 on one that does not. When the first 202 it gets is for a layer the
// repository lacks, it takes the registry for one that mounts: on a
// registry that ignores mounts, such a client then uploads blobs the
// repository has, as it would with no HEAD at all. Push and Copy ask about
// an image's layers bottom first, and the bottom layers are those most
// often shared: pushing an image on a base the repository has, a new
// client's HEAD lands on a layer of the base.
//
// r is first read before the request that carries its bytes is sent, so
// that a body that opens its source on its first read (another request,
// maybe to this registry) does not wait on a registry that serves one
// request at a time.
//
// The registry checks the digest. The client checks the size as it streams:
// more or fewer bytes than desc.Size fail with [transport.ErrSizeInvalid] before the
// last byte is sent. A session opened for a failed upload is deleted.
//
// Every upload Location must be on the registry's scheme, host and port, and
// under /v2/<name>/blobs/uploads/: a registry that hands out upload URLs on
// another host is refused with [transport.ErrBlobUploadInvalid] before any byte of the
// blob is sent (see [Client]).
func (c *Client) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	if err := checkDigest(desc.Digest); err != nil {
		return err
	}
	s, has, err := c.ask(ctx, repo, desc)
	if err != nil || has {
		return err
	}
	if s == nil {
		if c.trySinglePOST(desc.Size) {
			return c.singlePOST(ctx, repo, desc, r)
		}
		if s, err = c.postUpload(ctx, repo, nil, nil); err != nil {
			return err
		}
		if s == nil {
			return fmt.Errorf("POST %s: the registry answered 201 to a request without a blob", redact(c.endpoint(repo, "blobs", "uploads", "")))
		}
	}
	if err := c.upload(ctx, s, desc, r); err != nil {
		c.cancelSession(ctx, s)
		return err
	}
	return nil
}

// ask reports whether repo has the blob desc describes, or returns the
// session a mount request opened for it, as [Client.PutBlob] describes. On
// a registry known to ignore or refuse mounts it asks with a HEAD.
//
// While the client does not know what a 202 to a mount means, the first
// layer asked about is the probe: the other layers wait for its verdict
// before they ask (so that a registry that ignores mounts is not sent one
// mount request per upload under way, each to be deleted), and its 202 is
// followed by one HEAD that settles it (200: the registry ignores mounts;
// 404: it mounts). An image config, new with almost every image, neither
// probes nor waits: its 202 is taken to mean "missing", so that the HEAD
// lands on a layer, which the repository more likely has.
func (c *Client) ask(ctx context.Context, repo string, desc ocispec.Descriptor) (*uploadSession, bool, error) {
	for {
		switch c.caps.selfMount.get() {
		case triNo:
			has, err := c.hasBlob(ctx, repo, desc.Digest)
			return nil, has, err
		case triYes:
			return c.mountSelf(ctx, repo, desc, false)
		}
		if isImageConfig(desc.MediaType) {
			return c.mountSelf(ctx, repo, desc, false)
		}
		wait := c.caps.mountProbe.claim()
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, false, context.Cause(ctx)
			}
		}
		if c.caps.selfMount.get() != triUnknown { // settled before the claim
			c.caps.mountProbe.release()
			continue
		}
		s, has, err := c.mountSelf(ctx, repo, desc, true)
		c.caps.mountProbe.release()
		return s, has, err
	}
}

// mountSelf asks for a mount of the blob desc describes from repo into
// itself: 201 means repo has it, a 202 opens a session for it. With probe
// set, a 202 is followed by a HEAD whose answer settles what the registry's
// 202s mean; without, a 202 means "missing". A refusal (a 4xx) settles
// that the registry does not mount, and a HEAD answers; a 404, which says
// that repo does not exist yet, means "missing" and settles nothing.
func (c *Client) mountSelf(ctx context.Context, repo string, desc ocispec.Descriptor, probe bool) (*uploadSession, bool, error) {
	d := desc.Digest
	s, err := c.postUpload(ctx, repo, url.Values{"mount": {d.String()}, "from": {repo}}, nil)
	switch {
	case err == nil && s == nil:
		c.caps.selfMount.set(triYes)
		return nil, true, nil
	case err == nil && !probe:
		return s, false, nil
	case err == nil:
		has, err := c.hasBlob(ctx, repo, d)
		switch {
		case err != nil: // unsettled: the next layer probes
		case has:
			c.caps.selfMount.learn(triNo)
		default:
			c.caps.selfMount.learn(triYes)
		}
		if err != nil || has {
			c.cancelSession(ctx, s)
			return nil, has, err
		}
		return s, false, nil
	case mountRefused(err) && errors.Is(err, transport.ErrNotFound):
		return nil, false, nil
	case mountRefused(err):
		c.caps.selfMount.set(triNo)
		has, err := c.hasBlob(ctx, repo, d)
		return nil, has, err
	}
	return nil, false, err
}

// isImageConfig reports whether mediaType is that of an image config, OCI
// or Docker, parameters aside.
func isImageConfig(mediaType string) bool {
	mt := spec.MediaType(mediaType)
	return mt == ocispec.MediaTypeImageConfig || mt == image.MediaTypeDockerConfig
}

// hasBlob reports whether repo has blob d (HEAD /v2/<name>/blobs/<digest>).
// A registry that refuses the HEAD (a 4xx other than for auth or rate
// limits) is taken to lack it: the blob is uploaded, as it would be without
// asking.
func (c *Client) hasBlob(ctx context.Context, repo string, d digest.Digest) (bool, error) {
	_, err := c.StatBlob(ctx, repo, d)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, transport.ErrNotFound), mountRefused(err):
		return false, nil
	}
	return false, err
}

// mountRefused reports whether err is a registry refusing a mount request
// (or another request it need not serve) rather than failing: a 4xx other
// than for auth or rate limits.
func mountRefused(err error) bool {
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode < 400 || re.StatusCode > 499 {
		return false
	}
	switch re.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return false
	}
	return true
}

// singlePOSTProbeMax is the largest blob that goes in a single POST while
// the client does not know whether the registry stores its body: a registry
// that ignores the body gets the bytes again in a PUT, so the probe risks
// at most this much.
const singlePOSTProbeMax = 64 << 10

// trySinglePOST reports whether a blob of size bytes goes in one POST: at
// most [WithSinglePOSTMax] bytes on a registry known to store the body, at
// most singlePOSTProbeMax while that is not known, none on one that ignores
// it.
func (c *Client) trySinglePOST(size int64) bool {
	if size <= 0 || size > c.singlePOSTMax {
		return false
	}
	switch c.caps.singlePOST.get() {
	case triYes:
		return true
	case triNo:
		return false
	}
	return size <= singlePOSTProbeMax
}

// singlePOST uploads a small blob in the POST that opens the session.
func (c *Client) singlePOST(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	buf, err := readExactly(r, desc)
	if err != nil {
		return err
	}
	s, err := c.postUpload(ctx, repo, url.Values{"digest": {desc.Digest.String()}}, buf)
	if err != nil {
		return err
	}
	if s == nil {
		c.caps.singlePOST.set(triYes)
		return nil
	}
	c.caps.singlePOST.set(triNo)
	if err := c.putWhole(ctx, s, desc.Digest, bytes.NewReader(buf), int64(len(buf))); err != nil {
		c.cancelSession(ctx, s)
		return err
	}
	return nil
}

// readExactly reads the desc.Size bytes of a blob, and checks there are no
// more.
func readExactly(r io.Reader, desc ocispec.Descriptor) ([]byte, error) {
	buf := make([]byte, desc.Size)
	n, err := io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, transport.Errorf(transport.CodeSizeInvalid, "blob %s: got %d bytes, want %d", desc.Digest, n, desc.Size)
	case err != nil:
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	more, err := hasMore(r)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	if more {
		return nil, transport.Errorf(transport.CodeSizeInvalid, "blob %s: more than the expected %d bytes", desc.Digest, desc.Size)
	}
	return buf, nil
}

// hasMore reports whether r has another byte (which it consumes).
func hasMore(r io.Reader) (bool, error) {
	var b [1]byte
	for range 100 {
		n, err := r.Read(b[:])
		switch {
		case n > 0:
			return true, nil
		case err == io.EOF:
			return false, nil
		case err != nil:
			return false, err
		}
	}
	return false, io.ErrNoProgress
}

// postUpload sends POST /v2/<name>/blobs/uploads/ with query q and body. It
// returns nil when the registry answered 201 (the blob is there: mounted or
// uploaded), and the session it opened when it answered 202.
func (c *Client) postUpload(ctx context.Context, repo string, q url.Values, body []byte) (*uploadSession, error) {
	u := c.endpoint(repo, "blobs", "uploads", "")
	u.RawQuery = q.Encode()
	r := reqSpec{
		method: http.MethodPost, url: u, notFound: transport.CodeNameUnknown,
		want:       []int{http.StatusCreated, http.StatusAccepted},
		idempotent: true,
	}
	if body != nil {
		r.header = http.Header{"Content-Type": {"application/octet-stream"}}
		r.body, r.size = bytes.NewReader(body), int64(len(body))
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	drainClose(resp)
	if resp.StatusCode == http.StatusCreated {
		return nil, nil
	}
	loc, err := locationOf(resp)
	if err != nil {
		return nil, err
	}
	if err := c.checkUploadURL(repo, loc); err != nil {
		return nil, fmt.Errorf("POST %s: %w", redact(u), err)
	}
	return &uploadSession{repo: repo, loc: loc, minChunk: c.chunkMinOf(resp)}, nil
}

// upload sends the bytes of a blob to session s and closes it.
func (c *Client) upload(ctx context.Context, s *uploadSession, desc ocispec.Descriptor, r io.Reader) error {
	chunk := max(c.chunkSize, s.minChunk)
	if desc.Size <= 0 {
		if _, err := c.heldChunk(s); err != nil {
			return err
		}
		return c.uploadBuffered(ctx, s, desc.Digest, r, chunk)
	}
	sr := &sizedReader{r: r, want: desc.Size, d: desc.Digest}
	body, err := primed(sr)
	if err != nil {
		return err
	}
	if desc.Size <= chunk || !c.chunkKnown {
		err = c.putWhole(ctx, s, desc.Digest, body, desc.Size)
	} else {
		for off := int64(0); off < desc.Size && err == nil; off += chunk {
			n := min(chunk, desc.Size-off)
			err = c.patch(ctx, s, io.LimitReader(body, n), off, n)
		}
		if err == nil {
			err = c.putWhole(ctx, s, desc.Digest, nil, 0)
		}
	}
	if sr.err != nil {
		return sr.err
	}
	return err
}

// primed reads the first byte of r before any request carries it, and
// returns a reader of all of r. A body that opens its source on its first
// read (a blob streamed from another request, perhaps to this very
// registry, as Copy does) has then sent that request and got its answer
// before the upload's request holds the registry: a registry that serves
// one request at a time, and holds it while it reads a request body, would
// otherwise never answer the source's request.
func primed(r io.Reader) (io.Reader, error) {
	var b [1]byte
	for range 100 {
		n, err := r.Read(b[:])
		switch {
		case n > 0:
			return io.MultiReader(bytes.NewReader(b[:n]), r), nil
		case err != nil:
			return nil, err
		}
	}
	return nil, io.ErrNoProgress
}

// heldChunk returns the chunk size of session s for an upload that holds
// a chunk in memory: the client's, or the registry's minimum if larger. A
// minimum above the client's limit (the larger of DefaultMaxChunkMin and
// the chunk size) gives a *LimitError, before anything is held: a registry
// that asks for chunks of a terabyte does not get the client to buffer a
// whole blob.
func (c *Client) heldChunk(s *uploadSession) (int64, error) {
	if s.minChunk > c.maxChunkMin {
		return 0, &transport.LimitError{
			What: fmt.Sprintf("upload to %s: the registry's chunk minimum (OCI-Chunk-Min-Length), for an upload held in memory a chunk at a time", s.repo),
			Unit: "bytes", Limit: c.maxChunkMin, Got: s.minChunk, Option: "WithChunkSize",
		}
	}
	return max(c.chunkSize, s.minChunk), nil
}

// uploadBuffered uploads a blob of unknown size, one chunk in memory at a
// time: a blob smaller than a chunk goes in one PUT.
func (c *Client) uploadBuffered(ctx context.Context, s *uploadSession, d digest.Digest, r io.Reader, chunk int64) error {
	var buf bytes.Buffer
	for off := int64(0); ; {
		buf.Reset()
		n, err := buf.ReadFrom(io.LimitReader(r, chunk))
		if err != nil {
			return fmt.Errorf("read blob %s: %w", d, err)
		}
		if n < chunk && off == 0 {
			return c.putWhole(ctx, s, d, bytes.NewReader(buf.Bytes()), n)
		}
		if n > 0 {
			if err := c.patch(ctx, s, bytes.NewReader(buf.Bytes()), off, n); err != nil {
				return err
			}
			off += n
		}
		if n < chunk {
			return c.putWhole(ctx, s, d, nil, 0)
		}
	}
}

// putWhole closes session s with PUT <location>?digest=, sending body (size
// bytes) as the last, or only, part of the blob.
func (c *Client) putWhole(ctx context.Context, s *uploadSession, d digest.Digest, body io.Reader, size int64) error {
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodPut, url: withQuery(s.loc, "digest", d.String()),
		header: http.Header{"Content-Type": {"application/octet-stream"}},
		body:   body, size: size,
		notFound: transport.CodeBlobUploadUnknown,
		want:     []int{http.StatusCreated, http.StatusOK, http.StatusNoContent},
	})
	var re *ResponseError
	if err != nil && size > 0 && !c.chunkKnown && errors.As(err, &re) && re.StatusCode == http.StatusRequestEntityTooLarge {
		return fmt.Errorf("%w (the registry, or a proxy in front of it, refused a body of %d bytes: WithChunkSize uploads in smaller requests)", err, size)
	}
	if err != nil {
		return err
	}
	drainClose(resp)
	return nil
}

// patch sends n bytes at offset off to session s, and follows its new
// Location. A registry that refuses the offset (416) gives a *rangeError
// saying how many bytes the session holds, if its answer says.
func (c *Client) patch(ctx context.Context, s *uploadSession, body io.Reader, off, n int64) error {
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodPatch, url: s.loc,
		header: http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)},
		},
		body: body, size: n,
		notFound: transport.CodeBlobUploadUnknown,
		want:     []int{http.StatusAccepted, http.StatusNoContent, http.StatusRequestedRangeNotSatisfiable},
	})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return rangeMismatch(resp, off)
	}
	drainClose(resp)
	return c.follow(s, resp)
}

// follow moves session s to the Location of resp, if it has one.
func (c *Client) follow(s *uploadSession, resp *http.Response) error {
	if resp.Header.Get("Location") == "" {
		return nil
	}
	loc, err := locationOf(resp)
	if err != nil {
		return err
	}
	if err := c.checkUploadURL(s.repo, loc); err != nil {
		return fmt.Errorf("%s %s: %w", resp.Request.Method, redact(resp.Request.URL), err)
	}
	s.loc = loc
	return nil
}

// cancelSession deletes session s, best effort, even when ctx is done.
func (c *Client) cancelSession(ctx context.Context, s *uploadSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if resp, err := c.deleteSession(ctx, s); err == nil {
		drainClose(resp)
	}
}

func (c *Client) deleteSession(ctx context.Context, s *uploadSession) (*http.Response, error) {
	return c.do(ctx, reqSpec{
		method: http.MethodDelete, url: s.loc, notFound: transport.CodeBlobUploadUnknown,
		want: []int{http.StatusNoContent, http.StatusAccepted, http.StatusOK},
	})
}

// sizedReader passes on exactly want bytes of r. When it has read them it
// checks that r has no more before it returns the last ones, and when r ends
// early it fails: an upload of the wrong size breaks off before its request
// is complete.
type sizedReader struct {
	r    io.Reader
	want int64
	n    int64
	d    digest.Digest
	err  error
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.n >= s.want {
		return 0, io.EOF
	}
	if int64(len(p)) > s.want-s.n {
		p = p[:s.want-s.n]
	}
	k, err := s.r.Read(p)
	s.n += int64(k)
	switch {
	case s.n == s.want:
		more, perr := hasMore(s.r)
		if perr != nil {
			s.err = fmt.Errorf("read blob %s: %w", s.d, perr)
		} else if more {
			s.err = transport.Errorf(transport.CodeSizeInvalid, "blob %s: more than the expected %d bytes", s.d, s.want)
		}
	case err == io.EOF:
		s.err = transport.Errorf(transport.CodeSizeInvalid, "blob %s: got %d bytes, want %d", s.d, s.n, s.want)
	case err != nil:
		s.err = fmt.Errorf("read blob %s: %w", s.d, err)
	}
	if s.err != nil {
		return 0, s.err
	}
	return k, nil
}
