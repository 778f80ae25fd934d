package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/linkheader"
	"github.com/regkit/regkit/registry/fake"
)

// TestServerPagesReferrers lists 2,500 referrers without n=: the server
// answers pages of 1000 with a Link to the next, which keeps the request's
// filter, so that no page outgrows what a client reads as one index.
func TestServerPagesReferrers(t *testing.T) {
	t.Parallel()
	const n = 2500
	store, subject := referrerStore(t, n, func(i int) string {
		return fmt.Sprintf(`"artifactType":"application/x.sig","annotations":{"i":"%d"}`, i)
	})
	srv, _ := serve(t, store, false)
	for _, query := range []string{"", "?artifactType=application/x.sig"} {
		t.Run(query, func(t *testing.T) {
			t.Parallel()
			path := "/v2/demo/referrers/" + subject.Digest.String() + query
			seen := map[digest.Digest]bool{}
			for pages := 1; ; pages++ {
				resp := doRequest(t, srv, "GET", path, nil, "")
				wantStatus(t, resp, 200)
				var ix ocispec.Index
				if err := json.Unmarshal(resp.body, &ix); err != nil {
					t.Fatal(err)
				}
				for _, d := range ix.Manifests {
					seen[d.Digest] = true
				}
				next, err := linkheader.Next(resp.Header.Values("Link")...)
				if err != nil {
					t.Fatal(err)
				}
				if want := min(1000, n-1000*(pages-1)); len(ix.Manifests) != want {
					t.Fatalf("page %d holds %d referrers, want %d", pages, len(ix.Manifests), want)
				}
				if next == "" {
					if pages != 3 {
						t.Errorf("%d pages, want 3", pages)
					}
					break
				}
				u, err := url.Parse(next)
				if err != nil {
					t.Fatal(err)
				}
				if u.Query().Has("n") || (query != "") != strings.Contains(next, "artifactType=") {
					t.Errorf("page %d links to %q: want no n= and the request's artifactType", pages, next)
				}
				path = next
			}
			if len(seen) != n {
				t.Errorf("listed %d referrers, want %d", len(seen), n)
			}
		})
	}
}

// referrerStore returns a store whose repository demo holds a manifest
// tagged subject and n manifests that refer to it, the i-th with the JSON
// members fields(i) (such as its artifactType and annotations), and the
// subject's descriptor.
func referrerStore(t *testing.T, n int, fields func(i int) string) (*fake.Store, ocispec.Descriptor) {
	t.Helper()
	store := fake.NewStore()
	ctx := t.Context()
	cfg := []byte("{}")
	cfgDesc := ocispec.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: digest.FromBytes(cfg), Size: 2}
	if err := store.PutBlob(ctx, "demo", cfgDesc, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	c, _ := json.Marshal(cfgDesc)
	manifest := func(extra string) []byte {
		return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[]%s}`, ocispec.MediaTypeImageManifest, c, extra))
	}
	subject, err := store.PutManifest(ctx, "demo", "subject", ocispec.MediaTypeImageManifest, manifest(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := json.Marshal(subject)
	for i := range n {
		body := manifest(fmt.Sprintf(`,"subject":%s,%s`, s, fields(i)))
		if _, err := store.PutManifest(ctx, "demo", digest.FromBytes(body).String(), ocispec.MediaTypeImageManifest, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	return store, subject
}
