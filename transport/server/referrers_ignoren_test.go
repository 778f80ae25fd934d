package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/linkheader"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// ignoreNBackend lists the same referrers, with big annotations, whatever
// page size it is asked for (as a registry that ignores n= does), and
// counts the calls; past 50 it fails, so that a server asking forever
// shows as an error rather than a hang.
type ignoreNBackend struct {
	*fake.Store
	descs []ocispec.Descriptor
	calls atomic.Int32
}

func (b *ignoreNBackend) ListReferrers(context.Context, string, digest.Digest, string, transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	if b.calls.Add(1) > 50 {
		return transport.Page[ocispec.Descriptor]{}, errors.New("asked for the referrers more than 50 times")
	}
	return transport.Page[ocispec.Descriptor]{Items: b.descs}, nil
}

// TestReferrersBigPageBackendIgnoresN serves a referrers list of 2 MiB from
// a backend that ignores the page size: the server may ask again for
// fewer, but must stop asking once the backend shows it ignores N, and
// serve the page it got.
func TestReferrersBigPageBackendIgnoresN(t *testing.T) {
	t.Parallel()
	const n = 300
	b := &ignoreNBackend{Store: fake.NewStore()}
	pad := strings.Repeat("x", 7<<10)
	for i := range n {
		body := []byte(pad + string(rune('a'+i%26)) + strings.Repeat("y", i))
		b.descs = append(b.descs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(body), Size: 1,
			Annotations: map[string]string{"pad": pad}})
	}
	srv, _ := serve(t, b, true)
	subject := digest.FromString("subject")
	resp := doRequest(t, srv, "GET", "/v2/demo/referrers/"+subject.String(), nil, "")
	wantStatus(t, resp, 200)
	var ix ocispec.Index
	if err := json.Unmarshal(resp.body, &ix); err != nil {
		t.Fatal(err)
	}
	if len(ix.Manifests) != n {
		t.Errorf("the page lists %d referrers, want the %d the backend gave", len(ix.Manifests), n)
	}
	if c := b.calls.Load(); c > 3 {
		t.Errorf("the server asked the backend %d times for one page, want at most 3", c)
	}
}

// countingBackend counts the ListReferrers calls of its Store.
type countingBackend struct {
	*fake.Store
	calls atomic.Int32
}

func (b *countingBackend) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	b.calls.Add(1)
	return b.Store.ListReferrers(ctx, repo, subject, artifactType, req)
}

// TestReferrersBigPagesLinkTheSmallerSize lists 600 referrers of 6 KiB of
// annotations each, following the Links: the first page halves its way
// down to fit 1 MiB, and its Link asks for pages of that size, so that
// the later pages cost the backend one call each.
func TestReferrersBigPagesLinkTheSmallerSize(t *testing.T) {
	t.Parallel()
	const n = 600
	pad := strings.Repeat("x", 6<<10)
	store, subject := referrerStore(t, n, func(i int) string {
		return `"annotations":{"pad":"` + pad + `","i":"` + strconv.Itoa(i) + `"}`
	})
	b := &countingBackend{Store: store}
	srv, _ := serve(t, b, false)
	seen, pages := 0, 0
	var err error
	for path := "/v2/demo/referrers/" + subject.Digest.String(); path != ""; pages++ {
		resp := doRequest(t, srv, "GET", path, nil, "")
		wantStatus(t, resp, 200)
		if len(resp.body) > 1<<20 {
			t.Fatalf("page %d is %d bytes, more than 1 MiB", pages+1, len(resp.body))
		}
		var ix ocispec.Index
		if err := json.Unmarshal(resp.body, &ix); err != nil {
			t.Fatal(err)
		}
		seen += len(ix.Manifests)
		if path, err = linkheader.Next(resp.Header.Values("Link")...); err != nil {
			t.Fatal(err)
		}
	}
	if seen != n {
		t.Errorf("listed %d referrers, want %d", seen, n)
	}
	// 1000 (all 600) -> 300 -> 150 on the first page, then one call a page.
	if calls := int(b.calls.Load()); calls > pages+2 {
		t.Errorf("%d pages cost the backend %d calls, want at most %d", pages, calls, pages+2)
	}
}
