package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// placeholderAnnotation holds the nonce that makes each placeholder
// manifest of [Client.DeleteTag] unique.
const placeholderAnnotation = "com.github.regkit.tag-delete-placeholder"

// DeleteTag removes tag from repo, leaving the manifest it pointed at and
// that manifest's other tags. It sends DELETE /v2/<name>/manifests/<tag>;
// where the registry has no tag DELETE (405, or 400: remembered), it deletes
// the tag by placeholder and reports [transport.TagDeletedByPlaceholder]:
//
//  1. It first proves, once per Client, that the registry deletes manifests
//     by digest, without touching the tag: it pushes a placeholder manifest
//     of its own (an empty OCI manifest made unique by a random annotation,
//     whose {} config blob it uploads first) by digest only, untagged, and
//     deletes it. A registry that refuses (405 or UNSUPPORTED, as registries
//     with deletes disabled answer) allows no deletes at all: DeleteTag then
//     fails with [transport.ErrUnsupported] and the tag is untouched; that answer is
//     remembered.
//  2. It reads the manifest the tag points at, points the tag at a fresh
//     placeholder and deletes that by digest, which takes the tag with it.
//     If either step fails, it puts the tag's manifest back (only if the
//     tag still points at the placeholder, so no concurrent writer is
//     overwritten) and the error says where the tag points.
//
// A tag that does not exist gives [transport.ErrManifestUnknown], except on a registry
// that allows no deletes, which gives [transport.ErrUnsupported] first.
func (c *Client) DeleteTag(ctx context.Context, repo, tag string) (transport.TagDeletion, error) {
	if err := checkRepo(repo); err != nil {
		return 0, err
	}
	if err := spec.CheckTag(tag); err != nil {
		return 0, err
	}
	if c.caps.tagDelete.get() != triNo {
		resp, err := c.do(ctx, reqSpec{
			method: http.MethodDelete, url: c.endpoint(repo, "manifests", tag),
			notFound: transport.CodeManifestUnknown,
			want:     []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
		})
		if err == nil {
			drainClose(resp)
			c.caps.tagDelete.set(triYes)
			return transport.TagDeleted, nil
		}
		if !tagDeleteUnsupported(err) {
			return 0, err
		}
		c.caps.tagDelete.set(triNo)
	}
	return c.deleteTagByPlaceholder(ctx, repo, tag)
}

// tagDeleteUnsupported reports whether err is a registry's way of saying it
// cannot delete tags: 405, or 400 with no code, UNSUPPORTED, or
// DIGEST_INVALID (the distribution registry's answer before version 3).
func tagDeleteUnsupported(err error) bool {
	var re *ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.StatusCode {
	case http.StatusMethodNotAllowed:
		return true
	case http.StatusBadRequest:
		for _, e := range re.Errors {
			if knownCode(e.Code) && e.Code != transport.CodeUnsupported && e.Code != transport.CodeDigestInvalid {
				return false
			}
		}
		return true
	}
	return false
}

// deleteTagByPlaceholder deletes tag where the registry has no tag DELETE.
func (c *Client) deleteTagByPlaceholder(ctx context.Context, repo, tag string) (transport.TagDeletion, error) {
	if c.caps.digestDelete.get() == triNo {
		return 0, fmt.Errorf("delete tag %q of %s: %w", tag, repo, transport.Errorf(transport.CodeUnsupported, "the registry does not allow deletes: it has no tag DELETE, and refuses DELETE by digest"))
	}
	empty := ocispec.DescriptorEmptyJSON
	if err := c.PutBlob(ctx, repo, empty, bytes.NewReader(empty.Data)); err != nil {
		return 0, fmt.Errorf("delete tag %q of %s: upload the placeholder's config (the tag is untouched): %w", tag, repo, err)
	}
	if c.caps.digestDelete.get() != triYes {
		if err := c.proveDigestDelete(ctx, repo, tag); err != nil {
			return 0, err
		}
	}
	orig, raw, err := c.GetManifest(ctx, repo, tag)
	if err != nil {
		return 0, err
	}
	body, d, err := newPlaceholder()
	if err != nil {
		return 0, err
	}
	if _, err := c.putManifest(ctx, repo, tag, ocispec.MediaTypeImageManifest, body, nil); err != nil {
		return 0, c.restoreTag(ctx, repo, tag, orig, raw, d, fmt.Errorf("point it at placeholder manifest %s: %w", d, err))
	}
	if err := c.deleteDigest(ctx, repo, d); err != nil {
		return 0, c.restoreTag(ctx, repo, tag, orig, raw, d, fmt.Errorf("delete placeholder manifest %s: %w", d, err))
	}
	return transport.TagDeletedByPlaceholder, nil
}

// proveDigestDelete pushes an untagged placeholder and deletes it by digest,
// to learn whether the registry deletes manifests at all before DeleteTag
// repoints the caller's tag.
func (c *Client) proveDigestDelete(ctx context.Context, repo, tag string) error {
	body, d, err := newPlaceholder()
	if err != nil {
		return err
	}
	if _, err := c.putManifest(ctx, repo, d.String(), ocispec.MediaTypeImageManifest, body, nil); err != nil {
		return fmt.Errorf("delete tag %q of %s: push an untagged placeholder manifest to check that the registry deletes manifests (the tag is untouched): %w", tag, repo, err)
	}
	err = c.deleteDigest(ctx, repo, d)
	switch {
	case err == nil:
		return nil
	case deleteUnsupported(err):
		return fmt.Errorf("delete tag %q of %s: %w (the tag is untouched; the untagged placeholder manifest %s pushed to check is left behind): %w",
			tag, repo, transport.Errorf(transport.CodeUnsupported, "the registry does not allow deletes: it has no tag DELETE, and refused DELETE by digest"), d, err)
	}
	return fmt.Errorf("delete tag %q of %s: delete the untagged placeholder manifest %s pushed to check that the registry deletes manifests (the tag is untouched): %w", tag, repo, d, err)
}

// newPlaceholder returns a new placeholder manifest and its digest.
func newPlaceholder() ([]byte, digest.Digest, error) {
	empty := ocispec.DescriptorEmptyJSON
	empty.Data = nil
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	body, err := json.Marshal(ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      empty,
		Layers:      []ocispec.Descriptor{empty},
		Annotations: map[string]string{placeholderAnnotation: hex.EncodeToString(nonce)},
	})
	if err != nil {
		return nil, "", err
	}
	return body, digest.SHA256.FromBytes(body), nil
}

// deleteDigest deletes manifest d of repo, and learns from the answer
// whether the registry deletes by digest.
func (c *Client) deleteDigest(ctx context.Context, repo string, d digest.Digest) error {
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodDelete, url: c.endpoint(repo, "manifests", d.String()),
		notFound: transport.CodeManifestUnknown,
		want:     []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
	})
	if err != nil {
		if deleteUnsupported(err) {
			c.caps.digestDelete.set(triNo)
		}
		return err
	}
	drainClose(resp)
	c.caps.digestDelete.set(triYes)
	return nil
}

// deleteUnsupported reports whether err is a registry's way of saying it
// does not delete: 405, or the UNSUPPORTED code.
func deleteUnsupported(err error) bool {
	var re *ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusMethodNotAllowed || errors.Is(err, transport.ErrUnsupported))
}

// restoreTag puts the manifest orig (raw) back under tag after the step
// cause of a delete by placeholder failed, if the tag still points at the
// placeholder ph, best effort and even when ctx is done. The error it
// returns wraps cause and says where the tag points.
func (c *Client) restoreTag(ctx context.Context, repo, tag string, orig ocispec.Descriptor, raw []byte, ph digest.Digest, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, rerr := c.putIfMatch(ctx, repo, tag, orig.MediaType, raw, orig.Digest, ph)
	if rerr == nil {
		return fmt.Errorf("delete tag %q of %s: %w; the tag points at its manifest %s again", tag, repo, cause, orig.Digest)
	}
	cur, herr := c.tagDigest(ctx, repo, tag)
	var state string
	switch {
	case herr != nil:
		state = fmt.Sprintf("it may point at placeholder manifest %s (putting its manifest %s back failed: %v; reading it failed: %v)", ph, orig.Digest, rerr, herr)
	case cur == orig.Digest:
		state = fmt.Sprintf("it still points at its manifest %s", orig.Digest)
	case cur == ph:
		state = fmt.Sprintf("it points at placeholder manifest %s (putting its manifest %s back failed: %v)", ph, orig.Digest, rerr)
	case cur == "":
		state = "it no longer exists"
	default:
		state = fmt.Sprintf("it points at %s, which another writer put there", cur)
	}
	return fmt.Errorf("delete tag %q of %s: %w; %s", tag, repo, cause, state)
}
