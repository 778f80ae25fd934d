package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/transport"
)

// putIfMatch puts body under tag if the tag points at ifMatch. The PUT always
// carries If-Match: "<ifMatch>", and nothing but body is ever written to the
// tag.
//
// Until the registry has shown that it honours the header, the put is
// guarded: a HEAD before it fails early when the tag does not point at
// ifMatch, and a HEAD after it fails when the tag no longer points at body.
// A 412 answer proves the header honoured; it is remembered, and from then on
// the PUT alone decides. Where the registry ignores If-Match a window
// remains: a concurrent writer that moves the tag between the first HEAD and
// the PUT is overwritten, and the second HEAD cannot tell (it sees body, as
// it should). Only writers that come after the PUT are caught.
func (c *Client) putIfMatch(ctx context.Context, repo, tag, mediaType string, body []byte, own, ifMatch digest.Digest) (http.Header, error) {
	guarded := c.caps.ifMatch.get() != triYes
	if guarded {
		cur, err := c.tagDigest(ctx, repo, tag)
		if err != nil {
			return nil, err
		}
		if cur != ifMatch {
			return nil, notAt(repo, tag, cur, ifMatch)
		}
	}
	hdr, err := c.putManifest(ctx, repo, tag, mediaType, body, http.Header{"If-Match": {`"` + ifMatch.String() + `"`}})
	var re *ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusPreconditionFailed {
		c.caps.ifMatch.set(triYes)
		if !errors.Is(err, transport.ErrPreconditionFailed) {
			err = fmt.Errorf("%w: %w", transport.Errorf(transport.CodePreconditionFailed, "tag %q of %s no longer points at %s", tag, repo, ifMatch), err)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if guarded {
		return hdr, c.checkTag(ctx, repo, tag, own)
	}
	return hdr, nil
}

// notAt is the error of a tag that does not point at want: cur, or
// nothing when cur is "".
func notAt(repo, tag string, cur, want digest.Digest) error {
	if cur == "" {
		return transport.Errorf(transport.CodePreconditionFailed, "tag %q of %s does not exist, so it does not point at %s", tag, repo, want)
	}
	return transport.Errorf(transport.CodePreconditionFailed, "tag %q of %s points at %s, not %s", tag, repo, cur, want)
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
		return transport.Errorf(transport.CodePreconditionFailed, "tag %q of %s points at %s right after it was put at %s: a concurrent writer won", tag, repo, after, own)
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
	case errors.Is(err, transport.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return desc.Digest, nil
}
