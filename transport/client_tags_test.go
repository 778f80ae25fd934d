package transport

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestDeleteTag(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx := t.Context()
	v1 := pushManifest(t, c, "x", "1.0", "v1")
	pushManifest(t, c, "x", "stable", "v1")
	tr.requests()
	how, err := c.DeleteTag(ctx, "x", "stable")
	if err != nil || how != TagDeleted {
		t.Fatalf("DeleteTag = %v, %v; want %v", how, err, TagDeleted)
	}
	if log := tr.requests(); strings.Join(log, " ") != "DELETE /v2/x/manifests/stable" {
		t.Errorf("requests = %q", log)
	}
	if _, err := c.HeadManifest(ctx, "x", "stable"); !errors.Is(err, ErrManifestUnknown) {
		t.Errorf("deleted tag: %v", err)
	}
	if got, err := c.HeadManifest(ctx, "x", "1.0"); err != nil || got.Digest != v1.Digest {
		t.Errorf("other tag: %v, %v", got.Digest, err)
	}
	if _, err := c.DeleteTag(ctx, "x", "stable"); !errors.Is(err, ErrManifestUnknown) {
		t.Errorf("DeleteTag(deleted) = %v, want ErrManifestUnknown", err)
	}
	if c.caps.tagDelete.get() != clYes {
		t.Errorf("tag delete capability = %v", c.caps.tagDelete.get())
	}
	if TagDeleted.String() != "deleted" || TagDeletedByPlaceholder.String() != "deleted by placeholder" {
		t.Error("TagDeletion.String")
	}
}

func TestDeleteTagByPlaceholder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		refuse func(w http.ResponseWriter) // answer to DELETE of a tag
	}{
		{name: "405", refuse: func(w http.ResponseWriter) { testError(w, http.StatusMethodNotAllowed, CodeUnsupported) }},
		{name: "400 digest invalid (distribution 2)", refuse: func(w http.ResponseWriter) { testError(w, http.StatusBadRequest, CodeDigestInvalid) }},
		{name: "400 without body", refuse: func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, nil)
			tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/v2/x/manifests/") && !strings.Contains(r.URL.Path, ":") {
					tc.refuse(w)
					return true
				}
				return false
			}
			ctx := t.Context()
			v1 := pushManifest(t, c, "x", "1.0", "v1")
			pushManifest(t, c, "x", "stable", "v1")
			pushManifest(t, c, "x", "old", "v1")
			tr.requests()

			how, err := c.DeleteTag(ctx, "x", "stable")
			if err != nil || how != TagDeletedByPlaceholder {
				t.Fatalf("DeleteTag = %v, %v; want %v", how, err, TagDeletedByPlaceholder)
			}
			log := tr.requests()
			if clCount(log, "DELETE /v2/x/manifests/stable") != 1 || clCount(log, "PUT /v2/x/manifests/stable") != 1 || clCount(log, "DELETE /v2/x/manifests/sha256:") != 1 {
				t.Errorf("requests:\n%s", strings.Join(log, "\n"))
			}
			if _, err := c.HeadManifest(ctx, "x", "stable"); !errors.Is(err, ErrManifestUnknown) {
				t.Errorf("deleted tag: %v", err)
			}
			for _, tag := range []string{"1.0", "old"} {
				if got, err := c.HeadManifest(ctx, "x", tag); err != nil || got.Digest != v1.Digest {
					t.Errorf("tag %s after the delete: %v, %v", tag, got.Digest, err)
				}
			}
			// The placeholder's config blob was uploaded; no placeholder is left.
			if _, ok := tr.blobs[ocispec.DescriptorEmptyJSON.Digest]; !ok {
				t.Error("the {} config blob is missing")
			}
			tr.mu.Lock()
			for _, m := range tr.manifests["x"] {
				var mf ocispec.Manifest
				json.Unmarshal(m.body, &mf)
				if mf.Annotations[clPlaceholderAnnotation] != "" {
					t.Errorf("placeholder left: %s", m.body)
				}
			}
			tr.mu.Unlock()

			// Learned: the next delete goes straight to the placeholder.
			tr.requests()
			if how, err := c.DeleteTag(ctx, "x", "old"); err != nil || how != TagDeletedByPlaceholder {
				t.Fatalf("DeleteTag(old) = %v, %v", how, err)
			}
			if log := tr.requests(); clCount(log, "DELETE /v2/x/manifests/old") != 0 {
				t.Errorf("asked for tag DELETE again: %q", log)
			}
			// A tag that does not exist is not created.
			if _, err := c.DeleteTag(ctx, "x", "nope"); !errors.Is(err, ErrManifestUnknown) {
				t.Errorf("DeleteTag(nope) = %v, want ErrManifestUnknown", err)
			}
			if log := tr.requests(); clCount(log, "PUT") != 0 {
				t.Errorf("deleting an absent tag put something: %q", log)
			}
		})
	}
}

func TestDeleteTagErrors(t *testing.T) {
	t.Parallel()
	t.Run("placeholder cannot be deleted", func(t *testing.T) {
		t.Parallel()
		tr, c := newTestReg(t, func(tr *testReg) { tr.tagDelete = false })
		pushManifest(t, c, "x", "stable", "v1")
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "sha256:") {
				testError(w, http.StatusMethodNotAllowed, CodeUnsupported)
				return true
			}
			return false
		}
		_, err := c.DeleteTag(t.Context(), "x", "stable")
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "placeholder") {
			t.Errorf("DeleteTag = %v, want ErrUnsupported naming the placeholder", err)
		}
	})
	t.Run("other refusal", func(t *testing.T) {
		t.Parallel()
		tr, c := newTestReg(t, nil)
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			testError(w, http.StatusBadRequest, CodeTagInvalid)
			return true
		}
		if _, err := c.DeleteTag(t.Context(), "x", "stable"); !errors.Is(err, ErrTagInvalid) || c.caps.tagDelete.get() != clUnknown {
			t.Errorf("DeleteTag = %v, capability %v; want ErrTagInvalid, unknown", err, c.caps.tagDelete.get())
		}
	})
	t.Run("config upload fails", func(t *testing.T) {
		t.Parallel()
		tr, c := newTestReg(t, func(tr *testReg) { tr.tagDelete = false })
		pushManifest(t, c, "x", "stable", "v1")
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost {
				testError(w, http.StatusForbidden, CodeDenied)
				return true
			}
			return false
		}
		if _, err := c.DeleteTag(t.Context(), "x", "stable"); !errors.Is(err, ErrDenied) {
			t.Errorf("DeleteTag = %v, want ErrDenied", err)
		}
	})
	t.Run("placeholder put fails", func(t *testing.T) {
		t.Parallel()
		tr, c := newTestReg(t, func(tr *testReg) { tr.tagDelete = false })
		pushManifest(t, c, "x", "stable", "v1")
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				testError(w, http.StatusBadRequest, CodeManifestInvalid)
				return true
			}
			return false
		}
		if _, err := c.DeleteTag(t.Context(), "x", "stable"); !errors.Is(err, ErrManifestInvalid) {
			t.Errorf("DeleteTag = %v, want ErrManifestInvalid", err)
		}
	})
}
