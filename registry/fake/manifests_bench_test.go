package fake_test

import (
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
)

// BenchmarkDeleteManifest deletes a manifest by digest from a repository of
// 1,000, 10,000 and 100,000 tagged manifests, and puts it back with its
// tag. Deleting a manifest deletes the tags that point at it, so its cost
// must follow those tags, not the repository's.
func BenchmarkDeleteManifest(b *testing.B) {
	for _, n := range listSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := fake.NewStore()
			ctx := b.Context()
			cfg := storeBlob(b, s, "repo", []byte("{}"))
			bodies := make([][]byte, n)
			for i := range n {
				bodies[i] = mustJSON(b, ocispec.Manifest{
					Versioned:   specs.Versioned{SchemaVersion: 2},
					MediaType:   ocispec.MediaTypeImageManifest,
					Config:      cfg,
					Layers:      []ocispec.Descriptor{},
					Annotations: map[string]string{"i": fmt.Sprint(i)},
				})
				if _, err := s.PutManifest(ctx, "repo", fmt.Sprintf("t%06d", i), ocispec.MediaTypeImageManifest, bodies[i], nil); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				d := digest.FromBytes(bodies[i])
				if err := s.DeleteManifest(ctx, "repo", d.String()); err != nil {
					b.Fatal(err)
				}
				if _, err := s.PutManifest(ctx, "repo", fmt.Sprintf("t%06d", i), ocispec.MediaTypeImageManifest, bodies[i], nil); err != nil {
					b.Fatal(err)
				}
				i = (i + 1) % n
			}
		})
	}
}
