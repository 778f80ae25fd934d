package registrytest

import (
	"context"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// counting wraps a transport and counts calls per method, so tests can
// assert what an operation cost.
type counting struct {
	transport.Transport
	mu    sync.Mutex
	calls map[string]int
}

// Unwrap returns the transport counted, so that the model finds its
// optional interfaces (retries, the limiter, its origin) through the count.
func (c *counting) Unwrap() transport.Transport { return c.Transport }

func (c *counting) add(m string) {
	c.mu.Lock()
	c.calls[m]++
	c.mu.Unlock()
}

// get returns the count of m and resets it.
func (c *counting) take(m string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.calls[m]
	delete(c.calls, m)
	return n
}

func (c *counting) reset() {
	c.mu.Lock()
	c.calls = map[string]int{}
	c.mu.Unlock()
}

func (c *counting) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	c.add("GetManifest")
	return c.Transport.GetManifest(ctx, repo, ref)
}

func (c *counting) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	c.add("HeadManifest")
	return c.Transport.HeadManifest(ctx, repo, ref)
}

func (c *counting) PutManifest(ctx context.Context, repo, ref, mt string, body []byte, o *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	c.add("PutManifest")
	return c.Transport.PutManifest(ctx, repo, ref, mt, body, o)
}

func (c *counting) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	c.add("StatBlob")
	return c.Transport.StatBlob(ctx, repo, d)
}

func (c *counting) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	c.add("PutBlob")
	return c.Transport.PutBlob(ctx, repo, desc, r)
}

func (c *counting) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	c.add("ListTags")
	return c.Transport.ListTags(ctx, repo, req)
}

// DeleteTag passes tag deletion through to a backend that has its own way
// of doing it (see [transport.TagDeleter]).
func (c *counting) DeleteTag(ctx context.Context, repo, tag string) (transport.TagDeletion, error) {
	c.add("DeleteTag")
	if td, ok := transport.Find[transport.TagDeleter](c.Transport); ok {
		return td.DeleteTag(ctx, repo, tag)
	}
	return transport.TagDeleted, c.Transport.DeleteManifest(ctx, repo, tag)
}

// corrupting wraps a transport and flips one byte of every blob and
// manifest it reads, as a broken proxy would.
type corrupting struct {
	transport.Transport
}

func (c corrupting) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	desc, b, err := c.Transport.GetManifest(ctx, repo, ref)
	if err == nil && len(b) > 0 {
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 0x20
	}
	return desc, b, err
}

func (c corrupting) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	rc, desc, err := c.Transport.GetBlob(ctx, repo, d)
	if err != nil {
		return nil, desc, err
	}
	return flipReader{rc}, desc, nil
}

type flipReader struct{ io.ReadCloser }

func (f flipReader) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 {
		p[0] ^= 0xff
	}
	return n, err
}
