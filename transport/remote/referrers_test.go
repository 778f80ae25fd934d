package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// pushReferrer pushes an artifact manifest whose subject is subject.
func pushReferrer(t *testing.T, c *Client, repo string, subject ocispec.Descriptor, artifactType, content string) ocispec.Descriptor {
	t.Helper()
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"subject":{"mediaType":%q,"digest":%q,"size":%d},"annotations":{"content":%q}}`,
		ocispec.MediaTypeImageManifest, artifactType, subject.MediaType, subject.Digest, subject.Size, content)
	desc, err := c.PutManifest(t.Context(), repo, digest.FromString(body).String(), "", []byte(body), nil)
	if err != nil {
		t.Fatalf("PutManifest(referrer %s) = %v", content, err)
	}
	return desc
}

// fallbackIndex returns the fallback referrers index of subject in tr.
func fallbackIndex(t *testing.T, tr *testReg, repo string, subject digest.Digest) []ocispec.Descriptor {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	m, _, ok := tr.resolve(repo, referrersTag(subject))
	if !ok {
		return nil
	}
	var ix ocispec.Index
	if err := json.Unmarshal(m.body, &ix); err != nil {
		t.Fatalf("fallback index: %v", err)
	}
	if m.mediaType != ocispec.MediaTypeImageIndex || ix.MediaType != ocispec.MediaTypeImageIndex || ix.SchemaVersion != 2 {
		t.Errorf("fallback index media type %q / %q, schema %d", m.mediaType, ix.MediaType, ix.SchemaVersion)
	}
	return ix.Manifests
}

func TestReferrersFallback(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false })
	ctx := t.Context()
	subject := pushManifest(t, c, "x", "3.0", "subject")
	sbom := pushReferrer(t, c, "x", subject, "application/spdx+json", "sbom")
	sig := pushReferrer(t, c, "x", subject, "application/vnd.dev.cosign.artifact.sig.v1+json", "sig")
	if log := tr.requests(); countPrefixed(log, "GET /v2/x/referrers/") != 0 {
		t.Errorf("pushing referrers asked the referrers API: %q", log)
	}

	got := fallbackIndex(t, tr, "x", subject.Digest)
	if len(got) != 2 || got[0].Digest != sbom.Digest || got[1].Digest != sig.Digest ||
		got[0].ArtifactType != "application/spdx+json" || got[0].Annotations["content"] != "sbom" || got[0].Size != sbom.Size {
		t.Fatalf("fallback index = %+v", got)
	}
	if tag := referrersTag(subject.Digest); tag != "sha256-"+subject.Digest.Encoded() {
		t.Errorf("fallback tag = %q", tag)
	}

	all, err := c.ListReferrers(ctx, "x", subject.Digest, "", transport.PageRequest{})
	if err != nil || len(all.Items) != 2 || all.Next != "" {
		t.Fatalf("ListReferrers = %+v, %v", all, err)
	}
	only, err := c.ListReferrers(ctx, "x", subject.Digest, "application/spdx+json", transport.PageRequest{})
	if err != nil || len(only.Items) != 1 || only.Items[0].Digest != sbom.Digest {
		t.Fatalf("ListReferrers(spdx) = %+v, %v", only, err)
	}
	none, err := c.ListReferrers(ctx, "x", digest.FromString("no referrers"), "", transport.PageRequest{})
	if err != nil || len(none.Items) != 0 {
		t.Fatalf("ListReferrers(no fallback tag) = %+v, %v", none, err)
	}
	log := tr.requests()
	if n := countPrefixed(log, "GET /v2/x/referrers/"); n != 1 {
		t.Errorf("three listings made %d referrers API requests, want 1: %q", n, log)
	}
	if c.caps.referrers.get() != triNo {
		t.Errorf("referrers capability = %v, want no", c.caps.referrers.get())
	}

	// Deleting a referrer takes it out of the fallback index.
	if err := c.DeleteManifest(ctx, "x", sig.Digest.String()); err != nil {
		t.Fatalf("DeleteManifest(sig) = %v", err)
	}
	if got := fallbackIndex(t, tr, "x", subject.Digest); len(got) != 1 || got[0].Digest != sbom.Digest {
		t.Errorf("fallback index after delete = %+v", got)
	}
	// Pushing the same referrer again does not list it twice.
	pushReferrer(t, c, "x", subject, "application/spdx+json", "sbom")
	if got := fallbackIndex(t, tr, "x", subject.Digest); len(got) != 1 {
		t.Errorf("fallback index after a re-push = %+v", got)
	}
	// Deleting something that is no referrer leaves the index alone.
	other := pushManifest(t, c, "x", "", "plain")
	tr.requests()
	if err := c.DeleteManifest(ctx, "x", other.Digest.String()); err != nil {
		t.Fatal(err)
	}
	if log := tr.requests(); len(log) != 2 {
		t.Errorf("deleting a manifest without subject: %q, want GET and DELETE", log)
	}
}

func TestReferrersFallbackFirstLearnedOnDelete(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false })
	subject := pushManifest(t, c, "x", "1", "subject")
	sig := pushReferrer(t, c, "x", subject, "sig", "sig")
	tr.requests()
	if err := c.DeleteManifest(t.Context(), "x", sig.Digest.String()); err != nil {
		t.Fatal(err)
	}
	log := tr.requests()
	if countPrefixed(log, "GET /v2/x/referrers/") != 1 || len(fallbackIndex(t, tr, "x", subject.Digest)) != 0 {
		t.Errorf("delete: %q, fallback %v", log, fallbackIndex(t, tr, "x", subject.Digest))
	}
}

func TestReferrersAPI(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, nil)
	ctx := t.Context()
	subject := pushManifest(t, c, "x", "3.0", "subject")
	sbom := pushReferrer(t, c, "x", subject, "application/spdx+json", "sbom")
	pushReferrer(t, c, "x", subject, "sig", "sig")
	if got := fallbackIndex(t, tr, "x", subject.Digest); got != nil {
		t.Errorf("a registry that sent OCI-Subject got a fallback index: %+v", got)
	}
	tr.requests()
	p, err := c.ListReferrers(ctx, "x", subject.Digest, "application/spdx+json", transport.PageRequest{N: 5})
	if err != nil || len(p.Items) != 1 || p.Items[0].Digest != sbom.Digest {
		t.Fatalf("ListReferrers(spdx) = %+v, %v", p, err)
	}
	want := []string{"GET /v2/x/referrers/" + subject.Digest.String() + "?artifactType=application%2Fspdx%2Bjson&n=5"}
	if log := tr.requests(); strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests = %q, want %q", log, want)
	}
	if c.caps.referrers.get() != triYes {
		t.Errorf("referrers capability = %v, want yes", c.caps.referrers.get())
	}
	// With the API known, deletes need no lookup of the subject.
	if err := c.DeleteManifest(ctx, "x", sbom.Digest.String()); err != nil {
		t.Fatal(err)
	}
	if log := tr.requests(); len(log) != 1 {
		t.Errorf("delete with the referrers API: %q, want the DELETE only", log)
	}
}

func TestReferrersPage(t *testing.T) {
	t.Parallel()
	subject := digest.FromString("s")
	mk := func(at string, n int) string {
		var ds []string
		for i := range n {
			ds = append(ds, fmt.Sprintf(`{"mediaType":"m","digest":%q,"size":1,"artifactType":%q}`, digest.FromString(fmt.Sprint(at, i)), at))
		}
		return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(ds, ",") + `]}`
	}
	tests := []struct {
		name     string
		filtered string // OCI-Filters-Applied
		body     string
		status   int
		link     string
		want     int
		wantNext bool
		wantErr  error
		wantCap  tri
	}{
		{name: "filtered by the registry", filtered: "artifactType", body: mk("a", 2), want: 2, wantCap: triYes},
		{name: "filtered by the client", body: mk("a", 1)[:len(mk("a", 1))-2] + "," + mk("b", 2)[len(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`):], want: 1, wantCap: triYes},
		{name: "next page", filtered: "artifactType", body: mk("a", 1), link: `</v2/x/referrers/` + subject.String() + `?artifactType=a&last=z>; rel="next"`, want: 1, wantNext: true, wantCap: triYes},
		{name: "not an index", body: `[]`, wantErr: transport.ErrManifestInvalid, wantCap: triYes},
		{name: "unknown repository", status: 404, body: `{"errors":[{"code":"NAME_UNKNOWN"}]}`, want: 0, wantCap: triUnknown},
		{name: "method not allowed", status: 405, want: 0, wantCap: triNo},
		{name: "denied", status: 403, wantErr: transport.ErrDenied, wantCap: triUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t)
			mux.HandleFunc("GET /v2/x/referrers/{d}", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != ocispec.MediaTypeImageIndex || r.URL.Query().Get("artifactType") != "a" {
					t.Errorf("Accept %q, query %q", r.Header.Get("Accept"), r.URL.RawQuery)
				}
				if tc.filtered != "" {
					w.Header().Set("OCI-Filters-Applied", tc.filtered)
				}
				if tc.link != "" {
					w.Header().Set("Link", tc.link)
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				io.WriteString(w, tc.body)
			})
			mux.HandleFunc("GET /v2/x/manifests/{ref}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
			})
			p, err := c.ListReferrers(t.Context(), "x", subject, "a", transport.PageRequest{})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("ListReferrers = %v, want %v", err, tc.wantErr)
			}
			if len(p.Items) != tc.want || (p.Next != "") != tc.wantNext || c.caps.referrers.get() != tc.wantCap {
				t.Errorf("ListReferrers = %+v, capability %v; want %d items, next %v, %v", p, c.caps.referrers.get(), tc.want, tc.wantNext, tc.wantCap)
			}
			for _, d := range p.Items {
				if d.ArtifactType != "a" {
					t.Errorf("unfiltered %+v", d)
				}
			}
			if p.Next != "" {
				if _, err := c.ListReferrers(t.Context(), "x", subject, "a", transport.PageRequest{Next: p.Next}); err != nil {
					t.Errorf("ListReferrers(next) = %v", err)
				}
			}
		})
	}
}

func TestReferrersFallbackBadIndex(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false })
	subject := digest.FromString("s")
	tag := referrersTag(subject)
	if _, err := c.PutManifest(t.Context(), "x", tag, ocispec.MediaTypeImageIndex, []byte(`"not an index"`), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListReferrers(t.Context(), "x", subject, "", transport.PageRequest{}); !errors.Is(err, transport.ErrManifestInvalid) {
		t.Errorf("ListReferrers(bad fallback) = %v, want ErrManifestInvalid", err)
	}
	err := c.addReferrer(t.Context(), "x", subject, ocispec.Descriptor{Digest: digest.FromString("r")})
	if !errors.Is(err, transport.ErrManifestInvalid) {
		t.Errorf("addReferrer(bad fallback) = %v, want ErrManifestInvalid", err)
	}
	_ = tr
}

func TestReferrersFallbackRetries(t *testing.T) {
	t.Parallel()
	// The registry ignores If-Match; another writer changes the index
	// between our read and our write. The check before the put sees it,
	// and the client reads again: both referrers stay.
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false; tr.ifMatch = false })
	subject := pushManifest(t, c, "x", "1", "subject")
	first := pushReferrer(t, c, "x", subject, "a", "first")
	foreign := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("foreign"), Size: 3, ArtifactType: "f"}
	tag := referrersTag(subject.Digest)
	var interfered atomic.Bool
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/"+tag) && !interfered.Swap(true) {
			tr.mu.Lock()
			m, _, _ := tr.resolve("x", tag)
			var ix ocispec.Index
			json.Unmarshal(m.body, &ix)
			ix.Manifests = append(ix.Manifests, foreign)
			body, _ := json.Marshal(ix)
			d := digest.FromBytes(body)
			tr.manifests["x"][d] = testManifest{mediaType: m.mediaType, body: body}
			tr.tags["x"][tag] = d
			tr.mu.Unlock()
		}
		return false
	}
	second := pushReferrer(t, c, "x", subject, "a", "second")
	got := fallbackIndex(t, tr, "x", subject.Digest)
	var ds []digest.Digest
	for _, d := range got {
		ds = append(ds, d.Digest)
	}
	for _, want := range []digest.Digest{first.Digest, foreign.Digest, second.Digest} {
		if !slices.Contains(ds, want) {
			t.Errorf("fallback index lost %s: %v", want, ds)
		}
	}
}

func TestReferrersFallbackGivesUp(t *testing.T) {
	t.Parallel()
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false })
	subject := pushManifest(t, c, "x", "1", "subject")
	pushReferrer(t, c, "x", subject, "a", "first")
	tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "sha256-") {
			testError(w, http.StatusPreconditionFailed, transport.CodePreconditionFailed)
			return true
		}
		return false
	}
	err := c.addReferrer(t.Context(), "x", subject.Digest, ocispec.Descriptor{Digest: digest.FromString("r")})
	if !errors.Is(err, transport.ErrPreconditionFailed) || !strings.Contains(err.Error(), fmt.Sprintf("gave up after %d attempts", referrersAttempts)) {
		t.Errorf("addReferrer = %v, want ErrPreconditionFailed after %d attempts", err, referrersAttempts)
	}
}

func TestReferrersFallbackConcurrent(t *testing.T) {
	t.Parallel()
	// Concurrent pushers of referrers of one subject, to a registry without
	// the referrers API that honours If-Match: no descriptor is lost.
	const pushers = 8
	tr, c := newTestReg(t, func(tr *testReg) { tr.referrersAPI = false })
	subject := pushManifest(t, c, "x", "1", "subject")
	var wg sync.WaitGroup
	descs := make([]ocispec.Descriptor, pushers)
	for i := range pushers {
		wg.Go(func() {
			descs[i] = pushReferrer(t, c, "x", subject, "a", fmt.Sprint("pusher ", i))
		})
	}
	wg.Wait()
	got := fallbackIndex(t, tr, "x", subject.Digest)
	if len(got) != pushers {
		t.Fatalf("fallback index holds %d referrers, want %d: %+v", len(got), pushers, got)
	}
	for _, d := range descs {
		if !slices.ContainsFunc(got, func(g ocispec.Descriptor) bool { return g.Digest == d.Digest }) {
			t.Errorf("lost %s", d.Digest)
		}
	}
}
