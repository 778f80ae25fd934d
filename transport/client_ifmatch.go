package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// clIfMatchProbe is a digest no tag points at, for the If-Match probe.
var clIfMatchProbe = digest.FromString("regkit: If-Match probe: no manifest has this digest")

// putIfMatch puts body under tag if the tag points at ifMatch, with the
// If-Match header where the registry honours it and checks around the put
// elsewhere. The first call probes whether it is honoured.
func (c *Client) putIfMatch(ctx context.Context, repo, tag, mediaType string, body []byte, own, ifMatch digest.Digest) (http.Header, error) {
	for {
		switch c.caps.ifMatch.get() {
		case clYes:
			return c.putManifest(ctx, repo, tag, mediaType, body, http.Header{"If-Match": {`"` + ifMatch.String() + `"`}})
		case clNo:
			return c.putVerified(ctx, repo, tag, mediaType, body, own, ifMatch)
		}
		if err := c.probeIfMatch(ctx, repo, tag, ifMatch); err != nil {
			return nil, err
		}
	}
}

// probeIfMatch learns whether the registry honours If-Match on manifest
// PUTs, without changing anything: it puts the tag's current bytes back
// under it with If-Match of a digest that cannot match. 412 says honoured;
// success says ignored (and the tag points where it did). When the tag does
// not point at ifMatch in the first place, the put is pointless: it fails
// with ErrPreconditionFailed without probing.
func (c *Client) probeIfMatch(ctx context.Context, repo, tag string, ifMatch digest.Digest) error {
	c.caps.probeMu.Lock()
	defer c.caps.probeMu.Unlock()
	if c.caps.ifMatch.get() != clUnknown {
		return nil
	}
	cur, raw, err := c.GetManifest(ctx, repo, tag)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Errorf(CodePreconditionFailed, "tag %q of %s does not exist, so it does not point at %s", tag, repo, ifMatch)
		}
		return err
	}
	if cur.Digest != ifMatch {
		return Errorf(CodePreconditionFailed, "tag %q of %s points at %s, not %s", tag, repo, cur.Digest, ifMatch)
	}
	_, err = c.putManifest(ctx, repo, tag, cur.MediaType, raw, http.Header{"If-Match": {`"` + clIfMatchProbe.String() + `"`}})
	switch {
	case err == nil:
		c.caps.ifMatch.set(clNo)
	case errors.Is(err, ErrPreconditionFailed):
		c.caps.ifMatch.set(clYes)
	default:
		return err
	}
	return nil
}

// putVerified emulates If-Match where the registry ignores it: HEAD the
// tag, put, HEAD again.
func (c *Client) putVerified(ctx context.Context, repo, tag, mediaType string, body []byte, own, ifMatch digest.Digest) (http.Header, error) {
	cur, err := c.tagDigest(ctx, repo, tag)
	if err != nil {
		return nil, err
	}
	if cur != ifMatch {
		if cur == "" {
			return nil, Errorf(CodePreconditionFailed, "tag %q of %s does not exist, so it does not point at %s", tag, repo, ifMatch)
		}
		return nil, Errorf(CodePreconditionFailed, "tag %q of %s points at %s, not %s", tag, repo, cur, ifMatch)
	}
	hdr, err := c.putManifest(ctx, repo, tag, mediaType, body, nil)
	if err != nil {
		return nil, err
	}
	return hdr, c.checkTag(ctx, repo, tag, own)
}

// putIfAbsent puts body under tag, which did not exist when the caller
// looked, with If-None-Match: * (a registry that honours it refuses the put
// if a concurrent writer created the tag first), and checks afterwards that
// the tag points at it.
func (c *Client) putIfAbsent(ctx context.Context, repo, tag, mediaType string, body []byte, own digest.Digest) error {
	hdr := http.Header{"If-None-Match": {"*"}}
	if _, err := c.putManifest(ctx, repo, tag, mediaType, body, hdr); err != nil {
		return err
	}
	return c.checkTag(ctx, repo, tag, own)
}

// checkTag fails with ErrPreconditionFailed when tag does not point at own.
func (c *Client) checkTag(ctx context.Context, repo, tag string, own digest.Digest) error {
	after, err := c.tagDigest(ctx, repo, tag)
	if err != nil {
		return fmt.Errorf("check tag %q of %s after the put: %w", tag, repo, err)
	}
	if after != own {
		return Errorf(CodePreconditionFailed, "tag %q of %s points at %s right after it was put at %s: a concurrent writer won", tag, repo, after, own)
	}
	return nil
}

// tagDigest returns the digest tag points at, or "" when it does not exist.
func (c *Client) tagDigest(ctx context.Context, repo, tag string) (digest.Digest, error) {
	desc, err := c.headManifest(ctx, repo, tag)
	if errors.Is(err, errClNeedGet) {
		desc, _, err = c.GetManifest(ctx, repo, tag)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return desc.Digest, nil
}
