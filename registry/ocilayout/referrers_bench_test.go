package ocilayout

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// The benchmarks of this file list every referrer of one subject in a
// repository of n referrers, in pages of 100 and in one page. Listing in
// pages should cost about as much as one page, whatever n. Run them with
// -benchmem.

// referrerSizes are the numbers of referrers of the benchmarks.
var referrerSizes = []int{100, 1000, 10000}

// referrerManifest returns referrer i of referrerLayout: an artifact
// manifest whose subject is subject, made distinct by an annotation.
func referrerManifest(subject ocispec.Descriptor, i int) []byte {
	b, _ := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.example.sig",
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{ocispec.DescriptorEmptyJSON},
		Subject:      &subject,
		Annotations:  map[string]string{"n": fmt.Sprint(i)},
	})
	return b
}

// referrerLayout makes, in a new directory, repository benchRepo holding
// one image (tagged "subject") and n referrers of it, listed untagged,
// writing the files directly. It returns the directory and the subject.
func referrerLayout(tb testing.TB, n int) (string, digest.Digest) {
	tb.Helper()
	dir := tb.TempDir()
	write := benchWriter(tb, dir)
	blob := func(data []byte) ocispec.Descriptor {
		d := digest.FromBytes(data)
		write("blobs/sha256/"+d.Encoded(), data)
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(data))}
	}
	blob(ocispec.DescriptorEmptyJSON.Data)
	subject := blob(benchManifest(0))
	ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	tagged := subject
	tagged.Annotations = map[string]string{ocispec.AnnotationRefName: "subject"}
	ix.Manifests = append(ix.Manifests, tagged)
	for i := range n {
		ix.Manifests = append(ix.Manifests, blob(referrerManifest(subject, i)))
	}
	b, _ := json.Marshal(ix)
	write(indexFile, b)
	write(ociLayoutFile, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return dir, subject.Digest
}

// referrerStore returns a Store over a layout of n referrers, shared by
// the benchmarks of this run, and the subject of the referrers.
func referrerStore(b *testing.B, n int) (*Store, digest.Digest) {
	s := sharedStore(b, fmt.Sprint("referrers/", n), func(tb testing.TB) string {
		dir, _ := referrerLayout(tb, n)
		return dir
	})
	return s, digest.FromBytes(benchManifest(0)) // referrerLayout's subject
}

// listAllReferrers lists every referrer of subject in pages of size page (0:
// one page) and returns how many there are.
func listAllReferrers(ctx context.Context, s *Store, subject digest.Digest, page int) (int, error) {
	n := 0
	req := transport.PageRequest{N: page}
	for {
		p, err := s.ListReferrers(ctx, benchRepo, subject, "", req)
		if err != nil {
			return n, err
		}
		n += len(p.Items)
		if p.Next == "" {
			return n, nil
		}
		req.Next = p.Next
	}
}

// BenchmarkListReferrersLayout lists all n referrers of one subject, in
// pages of 100 and in one page, with one Store (warm: what the Store
// keeps of earlier listings is used) and with a new Store each time
// (cold: the first page reads every manifest).
func BenchmarkListReferrersLayout(b *testing.B) {
	b.Run("warm", func(b *testing.B) { benchListReferrers(b, false) })
	b.Run("cold", func(b *testing.B) { benchListReferrers(b, true) })
}

// benchListReferrers is BenchmarkListReferrersLayout, with a new Store for
// each listing if cold.
func benchListReferrers(b *testing.B, cold bool) {
	for _, n := range referrerSizes {
		for _, page := range []int{100, 0} {
			b.Run(fmt.Sprintf("referrers=%d/page=%d", n, page), func(b *testing.B) {
				s, subject := referrerStore(b, n)
				ctx := context.Background()
				if !cold { // the first listing is off the clock
					if _, err := listAllReferrers(ctx, s, subject, 0); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					if cold {
						b.StopTimer()
						s.Close()
						s, _ = referrerStore(b, n)
						b.StartTimer()
					}
					got, err := listAllReferrers(ctx, s, subject, page)
					if err != nil {
						b.Fatal(err)
					}
					if got != n {
						b.Fatalf("listed %d referrers, want %d", got, n)
					}
				}
			})
		}
	}
}
