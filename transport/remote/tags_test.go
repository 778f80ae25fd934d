package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/transport"
)

func TestDeleteTag(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx := t.Context()
	v1 := pushManifest(t, c, "x", "1.0", "v1")
	pushManifest(t, c, "x", "stable", "v1")
	tr.requests()
	how, err := c.DeleteTag(ctx, "x", "stable")
	if err != nil || how != transport.TagDeleted {
		t.Fatalf("DeleteTag = %v, %v; want %v", how, err, transport.TagDeleted)
	}
	if log := tr.requests(); strings.Join(log, " ") != "DELETE /v2/x/manifests/stable" {
		t.Errorf("requests = %q", log)
	}
	if _, err := c.HeadManifest(ctx, "x", "stable"); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("deleted tag: %v", err)
	}
	if got, err := c.HeadManifest(ctx, "x", "1.0"); err != nil || got.Digest != v1.Digest {
		t.Errorf("other tag: %v, %v", got.Digest, err)
	}
	if _, err := c.DeleteTag(ctx, "x", "stable"); !errors.Is(err, transport.ErrManifestUnknown) {
		t.Errorf("DeleteTag(deleted) = %v, want ErrManifestUnknown", err)
	}
	if c.caps.tagDelete.get() != triYes {
		t.Errorf("tag delete capability = %v", c.caps.tagDelete.get())
	}
	if transport.TagDeleted.String() != "deleted" || transport.TagDeletedByPlaceholder.String() != "deleted by placeholder" {
		t.Error("TagDeletion.String")
	}
}

func TestDeleteTagByPlaceholder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		refuse func(w http.ResponseWriter) // answer to DELETE of a tag
	}{
		{name: "405", refuse: func(w http.ResponseWriter) { testError(w, http.StatusMethodNotAllowed, transport.CodeUnsupported) }},
		{name: "400 digest invalid (distribution 2)", refuse: func(w http.ResponseWriter) { testError(w, http.StatusBadRequest, transport.CodeDigestInvalid) }},
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
			if err != nil || how != transport.TagDeletedByPlaceholder {
				t.Fatalf("DeleteTag = %v, %v; want %v", how, err, transport.TagDeletedByPlaceholder)
			}
			// Tag DELETE refused; an untagged placeholder pushed and
			// deleted by digest, proving deletes work; then the tag read,
			// pointed at a second placeholder, which is deleted.
			log := tr.requests()
			if countPrefixed(log, "DELETE /v2/x/manifests/stable") != 1 || countPrefixed(log, "PUT /v2/x/manifests/sha256:") != 1 ||
				countPrefixed(log, "GET /v2/x/manifests/stable") != 1 || countPrefixed(log, "PUT /v2/x/manifests/stable") != 1 ||
				countPrefixed(log, "DELETE /v2/x/manifests/sha256:") != 2 {
				t.Errorf("requests:\n%s", strings.Join(log, "\n"))
			}
			if i, j := slices.IndexFunc(log, func(l string) bool { return strings.HasPrefix(l, "DELETE /v2/x/manifests/sha256:") }),
				slices.Index(log, "PUT /v2/x/manifests/stable"); i < 0 || j < i {
				t.Errorf("the tag was repointed before deletes were proven to work:\n%s", strings.Join(log, "\n"))
			}
			if c.caps.digestDelete.get() != triYes {
				t.Errorf("delete by digest capability = %v, want yes", c.caps.digestDelete.get())
			}
			if _, err := c.HeadManifest(ctx, "x", "stable"); !errors.Is(err, transport.ErrManifestUnknown) {
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
				if mf.Annotations[placeholderAnnotation] != "" {
					t.Errorf("placeholder left: %s", m.body)
				}
			}
			tr.mu.Unlock()

			// Learned: the next delete goes straight to the placeholder.
			tr.requests()
			if how, err := c.DeleteTag(ctx, "x", "old"); err != nil || how != transport.TagDeletedByPlaceholder {
				t.Fatalf("DeleteTag(old) = %v, %v", how, err)
			}
			if log := tr.requests(); countPrefixed(log, "DELETE /v2/x/manifests/old") != 0 || countPrefixed(log, "PUT /v2/x/manifests/sha256:") != 0 {
				t.Errorf("asked for tag DELETE, or proved deletes, again: %q", log)
			}
			// A tag that does not exist is not created.
			if _, err := c.DeleteTag(ctx, "x", "nope"); !errors.Is(err, transport.ErrManifestUnknown) {
				t.Errorf("DeleteTag(nope) = %v, want ErrManifestUnknown", err)
			}
			if log := tr.requests(); countPrefixed(log, "PUT") != 0 {
				t.Errorf("deleting an absent tag put something: %q", log)
			}
		})
	}
}

// refuseManifestDeletes answers every DELETE of a manifest, tag or digest,
// as the distribution registry with deletes disabled does.
func refuseManifestDeletes(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/manifests/") {
		testError(w, http.StatusMethodNotAllowed, transport.CodeUnsupported)
		return true
	}
	return false
}

func TestDeleteTagWhereDeletesAreDisabled(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx := t.Context()
	v1 := pushManifest(t, c, "x", "stable", "v1")
	tr.hook = refuseManifestDeletes
	tr.requests()
	_, err := c.DeleteTag(ctx, "x", "stable")
	if !errors.Is(err, transport.ErrUnsupported) || !strings.Contains(err.Error(), "does not allow deletes") || !strings.Contains(err.Error(), "untouched") {
		t.Errorf("DeleteTag = %v, want ErrUnsupported saying the registry allows no deletes and the tag is untouched", err)
	}
	log := tr.requests()
	if countPrefixed(log, "PUT /v2/x/manifests/stable") != 0 {
		t.Errorf("the tag was written:\n%s", strings.Join(log, "\n"))
	}
	if got, err := c.HeadManifest(ctx, "x", "stable"); err != nil || got.Digest != v1.Digest {
		t.Errorf("stable after the refused delete = %v, %v; want %s", got.Digest, err, v1.Digest)
	}
	if c.caps.digestDelete.get() != triNo {
		t.Errorf("delete by digest capability = %v, want no", c.caps.digestDelete.get())
	}
	// Learned: no request at all the next time, whether the tag exists or not.
	tr.requests()
	for _, tag := range []string{"stable", "nope"} {
		if _, err := c.DeleteTag(ctx, "x", tag); !errors.Is(err, transport.ErrUnsupported) {
			t.Errorf("DeleteTag(%s) again = %v, want ErrUnsupported", tag, err)
		}
	}
	if log := tr.requests(); len(log) != 0 {
		t.Errorf("requests of a DeleteTag known to be impossible: %q", log)
	}
	// A delete by digest refused the same way is learned too.
	_, c2 := newTestReg(t, func(tr *testReg) { tr.hook = refuseManifestDeletes })
	if err := c2.DeleteManifest(ctx, "x", v1.Digest.String()); !errors.Is(err, transport.ErrUnsupported) || c2.caps.digestDelete.get() != triNo {
		t.Errorf("DeleteManifest = %v, capability %v; want ErrUnsupported, no", err, c2.caps.digestDelete.get())
	}
}

func TestDeleteTagRestoresTag(t *testing.T) {
	t.Parallel()
	other := digest.FromString(manifestOf("someone else's"))
	tests := []struct {
		name string
		// hook answers the n-th request (from 1) of its kind ("PUT tag",
		// "DELETE digest") of the delete by placeholder, or returns false.
		hook    func(tr *testReg, w http.ResponseWriter, kind string, n int) bool
		wantErr error
		// wantTag is what the tag points at afterwards: "v1" or "other".
		wantTag string
		wantMsg string
	}{
		{name: "placeholder delete fails", wantErr: transport.ErrDenied, wantTag: "v1", wantMsg: "points at its manifest {v1} again",
			hook: func(tr *testReg, w http.ResponseWriter, kind string, n int) bool {
				if kind == "DELETE digest" && n == 2 {
					testError(w, http.StatusForbidden, transport.CodeDenied)
					return true
				}
				return false
			}},
		{name: "placeholder put fails", wantErr: transport.ErrManifestInvalid, wantTag: "v1", wantMsg: "still points at its manifest {v1}",
			hook: func(tr *testReg, w http.ResponseWriter, kind string, n int) bool {
				if kind == "PUT tag" {
					testError(w, http.StatusBadRequest, transport.CodeManifestInvalid)
					return true
				}
				return false
			}},
		{name: "restore fails too", wantErr: transport.ErrDenied, wantMsg: "points at placeholder manifest",
			hook: func(tr *testReg, w http.ResponseWriter, kind string, n int) bool {
				if (kind == "DELETE digest" && n == 2) || (kind == "PUT tag" && n == 2) {
					testError(w, http.StatusForbidden, transport.CodeDenied)
					return true
				}
				return false
			}},
		{name: "a concurrent writer is not overwritten", wantErr: transport.ErrDenied, wantTag: "other", wantMsg: "points at {other}, which another writer put there",
			hook: func(tr *testReg, w http.ResponseWriter, kind string, n int) bool {
				if kind == "DELETE digest" && n == 2 {
					tr.mu.Lock()
					tr.tags["x"]["stable"] = other
					tr.mu.Unlock()
					testError(w, http.StatusForbidden, transport.CodeDenied)
					return true
				}
				return false
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, func(tr *testReg) { tr.tagDelete = false })
			ctx := t.Context()
			v1 := pushManifest(t, c, "x", "stable", "v1")
			pushManifest(t, c, "x", "", "someone else's")
			counts := map[string]int{}
			var mu sync.Mutex
			tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
				kind := ""
				switch {
				case r.Method == http.MethodPut && r.URL.Path == "/v2/x/manifests/stable":
					kind = "PUT tag"
				case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/v2/x/manifests/sha256:"):
					kind = "DELETE digest"
				default:
					return false
				}
				mu.Lock()
				counts[kind]++
				n := counts[kind]
				mu.Unlock()
				return tc.hook(tr, w, kind, n)
			}
			_, err := c.DeleteTag(ctx, "x", "stable")
			msg := strings.NewReplacer("{v1}", v1.Digest.String(), "{other}", other.String()).Replace(tc.wantMsg)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), msg) {
				t.Errorf("DeleteTag = %v, want %v saying %q", err, tc.wantErr, msg)
			}
			if tc.wantTag == "" {
				return
			}
			want := map[string]digest.Digest{"v1": v1.Digest, "other": other}[tc.wantTag]
			tr.hook = nil
			if got, err := c.HeadManifest(ctx, "x", "stable"); err != nil || got.Digest != want {
				t.Errorf("stable after the failed delete = %v, %v; want %s", got.Digest, err, want)
			}
		})
	}
}

func TestDeleteTagErrors(t *testing.T) {
	t.Parallel()
	t.Run("other refusal", func(t *testing.T) {
		t.Parallel()
		tr, c := newTestReg(t, nil)
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			testError(w, http.StatusBadRequest, transport.CodeTagInvalid)
			return true
		}
		if _, err := c.DeleteTag(t.Context(), "x", "stable"); !errors.Is(err, transport.ErrTagInvalid) || c.caps.tagDelete.get() != triUnknown {
			t.Errorf("DeleteTag = %v, capability %v; want ErrTagInvalid, unknown", err, c.caps.tagDelete.get())
		}
	})
	// Failures before deletes are proven leave the tag alone.
	tests := []struct {
		name    string
		refuse  func(w http.ResponseWriter, r *http.Request) bool
		wantErr error
	}{
		{name: "config upload fails", wantErr: transport.ErrDenied, refuse: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost {
				testError(w, http.StatusForbidden, transport.CodeDenied)
				return true
			}
			return false
		}},
		{name: "untagged placeholder put fails", wantErr: transport.ErrManifestInvalid, refuse: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				testError(w, http.StatusBadRequest, transport.CodeManifestInvalid)
				return true
			}
			return false
		}},
		{name: "untagged placeholder delete denied", wantErr: transport.ErrDenied, refuse: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "sha256:") {
				testError(w, http.StatusForbidden, transport.CodeDenied)
				return true
			}
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, c := newTestReg(t, func(tr *testReg) { tr.tagDelete = false })
			v1 := pushManifest(t, c, "x", "stable", "v1")
			tr.hook = tc.refuse
			if _, err := c.DeleteTag(t.Context(), "x", "stable"); !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), "untouched") {
				t.Errorf("DeleteTag = %v, want %v saying the tag is untouched", err, tc.wantErr)
			}
			tr.hook = nil
			if got, err := c.HeadManifest(t.Context(), "x", "stable"); err != nil || got.Digest != v1.Digest {
				t.Errorf("stable = %v, %v; want %s", got.Digest, err, v1.Digest)
			}
			if c.caps.digestDelete.get() != triUnknown {
				t.Errorf("delete by digest capability = %v, want unknown", c.caps.digestDelete.get())
			}
		})
	}
}

func TestDeleteTagDistributionWithDeletesDisabled(t *testing.T) {
	// The distribution registry with storage.delete.enabled false answers
	// every DELETE with 405 UNSUPPORTED. (Set through the environment, which
	// docker-registry reads over its configuration file.)
	t.Setenv("REGISTRY_STORAGE_DELETE_ENABLED", "false")
	c, err := New(regtest.Distribution(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	empty := ocispec.DescriptorEmptyJSON
	if err := c.PutBlob(ctx, "app", empty, bytes.NewReader(empty.Data)); err != nil {
		t.Fatal(err)
	}
	v1 := pushManifest(t, c, "app", "latest", "v1")
	_, err = c.DeleteTag(ctx, "app", "latest")
	if !errors.Is(err, transport.ErrUnsupported) {
		t.Errorf("DeleteTag = %v, want ErrUnsupported", err)
	}
	if got, err := c.HeadManifest(ctx, "app", "latest"); err != nil || got.Digest != v1.Digest {
		t.Errorf("latest after the refused delete = %v, %v; want %s", got.Digest, err, v1.Digest)
	}
}
