package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// clPlaceholderAnnotation holds the nonce that makes each placeholder
// manifest of [Client.DeleteTag] unique.
const clPlaceholderAnnotation = "com.github.regkit.tag-delete-placeholder"

// DeleteTag removes tag from repo, leaving the manifest it pointed at and
// that manifest's other tags. It sends DELETE /v2/<name>/manifests/<tag>;
// where the registry has no tag DELETE (405, or 400: remembered), it points
// the tag at a placeholder manifest of its own (an empty OCI manifest made
// unique by a random annotation, whose {} config blob it uploads first) and
// deletes that by digest, which takes the tag with it, and reports
// [TagDeletedByPlaceholder]. A tag that does not exist gives
// [ErrManifestUnknown].
func (c *Client) DeleteTag(ctx context.Context, repo, tag string) (TagDeletion, error) {
	if err := clCheckRepo(repo); err != nil {
		return 0, err
	}
	if clIsDigest(tag) {
		return 0, Errorf(CodeTagInvalid, "%q is a digest, not a tag", tag)
	}
	if _, err := clCheckRef(tag); err != nil {
		return 0, err
	}
	if c.caps.tagDelete.get() != clNo {
		resp, err := c.do(ctx, clRequest{
			method: http.MethodDelete, url: c.endpoint(repo, "manifests", tag),
			notFound: CodeManifestUnknown,
			want:     []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
		})
		if err == nil {
			clClose(resp)
			c.caps.tagDelete.set(clYes)
			return TagDeleted, nil
		}
		if !clTagDeleteUnsupported(err) {
			return 0, err
		}
		c.caps.tagDelete.set(clNo)
	}
	return c.deleteTagByPlaceholder(ctx, repo, tag)
}

// clTagDeleteUnsupported reports whether err is a registry's way of saying it
// cannot delete tags: 405, or 400 with no code, UNSUPPORTED, or
// DIGEST_INVALID (the distribution registry's answer before version 3).
func clTagDeleteUnsupported(err error) bool {
	var re *ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.StatusCode {
	case http.StatusMethodNotAllowed:
		return true
	case http.StatusBadRequest:
		for _, e := range re.Errors {
			if clKnownCode(e.Code) && e.Code != CodeUnsupported && e.Code != CodeDigestInvalid {
				return false
			}
		}
		return true
	}
	return false
}

func (c *Client) deleteTagByPlaceholder(ctx context.Context, repo, tag string) (TagDeletion, error) {
	// A placeholder must not create a tag that did not exist.
	if _, err := c.HeadManifest(ctx, repo, tag); err != nil {
		return 0, err
	}
	empty := ocispec.DescriptorEmptyJSON
	if err := c.PutBlob(ctx, repo, empty, bytes.NewReader(empty.Data)); err != nil {
		return 0, fmt.Errorf("delete tag %q of %s: upload the placeholder's config: %w", tag, repo, err)
	}
	empty.Data = nil
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	body, err := json.Marshal(ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      empty,
		Layers:      []ocispec.Descriptor{empty},
		Annotations: map[string]string{clPlaceholderAnnotation: hex.EncodeToString(nonce)},
	})
	if err != nil {
		return 0, err
	}
	if _, err := c.putManifest(ctx, repo, tag, ocispec.MediaTypeImageManifest, body, nil); err != nil {
		return 0, fmt.Errorf("delete tag %q of %s: put the placeholder: %w", tag, repo, err)
	}
	d := digest.SHA256.FromBytes(body)
	resp, err := c.do(ctx, clRequest{
		method: http.MethodDelete, url: c.endpoint(repo, "manifests", d.String()),
		notFound: CodeManifestUnknown,
		want:     []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
	})
	if err != nil {
		return 0, fmt.Errorf("delete tag %q of %s: the tag now points at placeholder manifest %s, which could not be deleted: %w", tag, repo, d, err)
	}
	clClose(resp)
	return TagDeletedByPlaceholder, nil
}
