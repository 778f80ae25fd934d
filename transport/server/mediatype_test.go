package server_test

import (
	"context"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// mediaTypeRecorder is a fake.Store that records the media type each
// PutManifest is given.
type mediaTypeRecorder struct {
	*fake.Store
	mu  sync.Mutex
	got []string
}

func (m *mediaTypeRecorder) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	m.mu.Lock()
	m.got = append(m.got, mediaType)
	m.mu.Unlock()
	return m.Store.PutManifest(ctx, repo, ref, mediaType, body, opts)
}

// TestServerPassesBareMediaType checks that the Handler gives its Transport
// the media type of a manifest push bare, as spec.MediaType reads a
// Content-Type: without parameters or space, in lower case, so that a
// Transport of the user's sees what regkit's own backends see.
func TestServerPassesBareMediaType(t *testing.T) {
	t.Parallel()
	tests := []struct{ contentType, want string }{
		{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageManifest},
		{ocispec.MediaTypeImageManifest + "; charset=utf-8", ocispec.MediaTypeImageManifest},
		{" Application/VND.OCI.Image.Manifest.v1+JSON ;charset=utf-8", ocispec.MediaTypeImageManifest},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.contentType, func(t *testing.T) {
			t.Parallel()
			rec := &mediaTypeRecorder{Store: fake.NewStore()}
			rep := replacer(seed(t, rec.Store))
			srv, _ := serve(t, rec, false)
			hdr := map[string]string{}
			if tc.contentType != "" {
				hdr["Content-Type"] = tc.contentType
			}
			resp := doRequest(t, srv, "PUT", "/v2/demo/manifests/v9", hdr, rep.Replace("{manifestbody}"))
			if resp.StatusCode != 201 {
				t.Fatalf("PUT = %d %s, want 201", resp.StatusCode, resp.body)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.got) != 1 || rec.got[0] != tc.want {
				t.Errorf("the Transport was given media types %q, want [%q]", rec.got, tc.want)
			}
		})
	}
}
