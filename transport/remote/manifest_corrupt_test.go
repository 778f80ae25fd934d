package remote_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// TestPutManifestBodyCorruptedOnTheWay puts a manifest under a tag through
// a connection that flips a byte of the body (in an annotation, so the
// registry still takes it): the client sees a Docker-Content-Digest that is
// not its own and puts again, so the tag names the right manifest; if every
// put is corrupted, it fails with ErrDigestInvalid.
func TestPutManifestBodyCorruptedOnTheWay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		truncate bool // cut the body short instead of flipping a byte
		thenFlip bool // and then flip a byte of the next put
		times    int
		ifMatch  bool
		wantErr  error
	}{
		{name: "once", times: 1},
		{name: "once, conditional put", times: 1, ifMatch: true},
		{name: "every time", times: 100, wantErr: transport.ErrDigestInvalid},
		{name: "truncated once", truncate: true, times: 1},
		{name: "truncated once, conditional put", truncate: true, times: 1, ifMatch: true},
		{name: "truncated every time", truncate: true, times: 100, wantErr: transport.ErrSizeInvalid},
		{name: "truncated, then flipped", truncate: true, thenFlip: true, times: 1},
		{name: "truncated, then flipped, conditional put", truncate: true, thenFlip: true, times: 1, ifMatch: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			empty := ocispec.DescriptorEmptyJSON
			body := func(note string) []byte {
				b, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
					Config: ocispec.Descriptor{MediaType: empty.MediaType, Digest: empty.Digest, Size: empty.Size}, Layers: []ocispec.Descriptor{},
					Annotations: map[string]string{"note": note}})
				return b
			}
			v1, v2 := body("version one"), body("version two")
			// The byte flipped is in the annotation's value, at the end.
			off := int64(strings.Index(string(v2), "version two"))
			srv := fake.Serve(t)
			c, err := remote.New(srv.Host)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.PutBlob(ctx, "app", empty, strings.NewReader(string(empty.Data))); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutManifest(ctx, "app", "latest", "", v1, nil); err != nil {
				t.Fatal(err)
			}
			fault := fake.FlipByte(off)
			if tc.truncate {
				fault = fake.Truncate(off)
			}
			faults := []fake.Fault{fault.On("PUT", fake.RouteManifest).Times(tc.times)}
			if tc.thenFlip {
				faults = append(faults, fake.FlipByte(off).On("PUT", fake.RouteManifest).Every(2).Times(1))
			}
			srv.SetFaults(faults...)
			var opts *transport.PutManifestOptions
			if tc.ifMatch {
				opts = &transport.PutManifestOptions{IfMatch: digest.FromBytes(v1)}
			}
			_, err = c.PutManifest(ctx, "app", "latest", "", v2, opts)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("PutManifest = %v, want %v", err, tc.wantErr)
			}
			if tc.thenFlip {
				puts, faulted := 0, 0
				for _, r := range srv.Requests() {
					if r.Method == "PUT" && r.Route == fake.RouteManifest {
						puts++
						if r.Fault != "" {
							faulted++
						}
					}
				}
				// v1, then refused, stored wrong, repaired.
				if puts != 4 || faulted != 2 {
					t.Errorf("%d manifest PUTs, %d of them faulted; want 4 and 2", puts, faulted)
				}
			}
			srv.SetFaults()
			got, err := c.HeadManifest(ctx, "app", "latest")
			if err != nil {
				t.Fatal(err)
			}
			want := digest.FromBytes(v2)
			if tc.wantErr != nil && tc.truncate {
				want = digest.FromBytes(v1) // refused: nothing stored
			}
			if (tc.wantErr == nil || tc.truncate) && got.Digest != want {
				t.Errorf("latest = %s, want %s", got.Digest, want)
			}
		})
	}
}
