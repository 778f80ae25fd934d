package remote

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// closeTracker is a round tripper that remembers every response body and
// whether it was closed, and checks that requests carry a context.
type closeTracker struct {
	t      *testing.T
	mu     sync.Mutex
	bodies []*trackedBody
}

type trackedBody struct {
	io.ReadCloser
	what   string
	mu     sync.Mutex
	closed int
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	b.closed++
	b.mu.Unlock()
	return b.ReadCloser.Close()
}

func (ct *closeTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Context() == nil || r.Context().Done() == nil {
		ct.t.Errorf("%s %s sent without a cancelable context", r.Method, r.URL)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b := &trackedBody{ReadCloser: resp.Body, what: r.Method + " " + r.URL.RequestURI()}
	resp.Body = b
	ct.mu.Lock()
	ct.bodies = append(ct.bodies, b)
	ct.mu.Unlock()
	return resp, nil
}

// check fails for every body not closed exactly once, and forgets them.
func (ct *closeTracker) check() {
	ct.t.Helper()
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, b := range ct.bodies {
		if b.closed != 1 {
			ct.t.Errorf("response body of %s closed %d times, want once", b.what, b.closed)
		}
	}
	ct.bodies = nil
}

func TestResponseBodiesClosed(t *testing.T) {
	t.Parallel()
	ct := &closeTracker{t: t}
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false; tr.tagDelete = false }, WithRoundTripper(ct), WithChunkSize(4))
	ctx := t.Context()
	subject := pushManifest(t, c, "x", "1", "subject")
	pushReferrer(t, c, "x", subject, "a", "ref")
	_, raw, _ := c.GetManifest(ctx, "x", "1")
	c.PutManifest(ctx, "x", "1", ocispec.MediaTypeImageManifest, raw, &transport.PutManifestOptions{IfMatch: subject.Digest})
	c.PutManifest(ctx, "x", "1", ocispec.MediaTypeImageManifest, raw, &transport.PutManifestOptions{IfMatch: digest.FromString("stale")})
	c.HeadManifest(ctx, "x", "1")
	c.HeadManifest(ctx, "x", "absent")
	c.GetManifest(ctx, "nope", "1")
	c.ListTags(ctx, "x", transport.PageRequest{})
	c.ListTags(ctx, "nope", transport.PageRequest{})
	c.ListReferrers(ctx, "x", subject.Digest, "", transport.PageRequest{})
	blob := []byte("some blob bytes")
	c.PutBlob(ctx, "x", blobDesc(blob), bytes.NewReader(blob))
	c.PutBlob(ctx, "x", blobDesc(blob), bytes.NewReader(blob))
	c.PutBlob(ctx, "x", ocispec.Descriptor{Digest: digest.FromString("x"), Size: 3}, bytes.NewReader([]byte("abc")))
	c.StatBlob(ctx, "x", digest.FromBytes(blob))
	c.StatBlob(ctx, "x", digest.FromString("absent"))
	c.MountBlob(ctx, "y", "x", digest.FromBytes(blob))
	c.MountBlob(ctx, "y", "x", digest.FromString("absent"))
	rc, _, _ := c.GetBlob(ctx, "x", digest.FromBytes(blob))
	io.ReadAll(rc)
	rc.Close()
	c.GetBlob(ctx, "x", digest.FromString("absent"))
	w, _ := c.StartUpload(ctx, "x")
	w.Write([]byte("0123456789"))
	w2, _ := c.ResumeUpload(ctx, "x", w.ID())
	w2.Commit(ctx, blobDesc([]byte("0123456789")))
	w3, _ := c.StartUpload(ctx, "x")
	w3.Cancel(ctx)
	c.DeleteTag(ctx, "x", "1")
	c.DeleteBlob(ctx, "x", digest.FromBytes(blob))
	c.DeleteManifest(ctx, "x", subject.Digest.String())
	if len(tr.requests()) < 40 {
		t.Error("the sequence sent fewer requests than expected")
	}
	ct.check()
}
