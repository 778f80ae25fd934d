package fake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// listSizes are the sizes of the lists the listing benchmarks list, a
// factor of 10 apart.
var listSizes = []int{1_000, 10_000, 100_000}

// listPages are the page sizes the listing benchmarks ask for: 100, and 0,
// the whole list in one page (over HTTP, the server's default page).
var listPages = []int{100, 0}

// spread returns the i-th of n names made by name, in an order that is not
// the sorted one (i*7919 mod n, 7919 being a prime that divides no n of
// listSizes), so that filling a store inserts in the middle of its lists.
func spread(i, n int, name func(int) string) string {
	return name(i * 7919 % n)
}

// fillTags gives repo of s n tags, "t000000" on, all on one manifest.
func fillTags(tb testing.TB, s *fake.Store, repo string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	cfg := storeBlob(tb, s, repo, []byte("{}"))
	body := mustJSON(tb, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}})
	ref := digest.FromBytes(body).String()
	name := func(i int) string { return fmt.Sprintf("t%06d", i) }
	tags := make([]string, 0, n)
	for i := 0; i < n; i += 100 {
		var batch []string
		for j := i; j < min(i+100, n); j++ {
			batch = append(batch, spread(j, n, name))
		}
		if _, err := s.PutManifest(ctx, repo, ref, ocispec.MediaTypeImageManifest, body, &transport.PutManifestOptions{Tags: batch}); err != nil {
			tb.Fatal(err)
		}
		tags = append(tags, batch...)
	}
	return tags
}

// fillRepositories gives s n repositories, "r000000" on, each holding one
// blob (mounted, which is cheaper than a push).
func fillRepositories(tb testing.TB, s *fake.Store, n int) {
	tb.Helper()
	name := func(i int) string { return fmt.Sprintf("r%06d", i) }
	from := spread(0, n, name)
	d := storeBlob(tb, s, from, []byte("blob")).Digest
	for i := 1; i < n; i++ {
		if err := s.MountBlob(context.Background(), spread(i, n, name), from, d); err != nil {
			tb.Fatal(err)
		}
	}
}

// fillReferrers puts n manifests that refer to one subject in repo of s,
// and returns the subject's digest.
func fillReferrers(tb testing.TB, s *fake.Store, repo string, n int) digest.Digest {
	return fillReferrersPadded(tb, s, repo, n, 0)
}

// fillReferrersPadded is fillReferrers with, when pad > 0, an annotation
// "pad" of pad bytes on each referrer.
func fillReferrersPadded(tb testing.TB, s *fake.Store, repo string, n, pad int) digest.Digest {
	tb.Helper()
	ctx := context.Background()
	cfg := storeBlob(tb, s, repo, []byte("{}"))
	cfg.MediaType = "application/vnd.oci.empty.v1+json"
	subjectBody := mustJSON(tb, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}})
	subject, err := s.PutManifest(ctx, repo, "subject", ocispec.MediaTypeImageManifest, subjectBody, nil)
	if err != nil {
		tb.Fatal(err)
	}
	padding := ""
	if pad > 0 {
		padding = fmt.Sprintf(`"pad":%q,`, strings.Repeat("x", pad))
	}
	// The referrers' bodies are made from a template: marshalling each
	// would cost more than the store's put.
	prefix := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/x.sig","config":%s,"layers":[],"subject":%s,"annotations":{%s"i":"`,
		ocispec.MediaTypeImageManifest, mustJSON(tb, cfg), mustJSON(tb, subject), padding)
	for i := range n {
		body := []byte(prefix + strconv.Itoa(i) + `"}}`)
		if _, err := s.PutManifest(ctx, repo, digest.FromBytes(body).String(), ocispec.MediaTypeImageManifest, body, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return subject.Digest
}

// storeBlob stores data as a blob of repo and returns its descriptor.
func storeBlob(tb testing.TB, s *fake.Store, repo string, data []byte) ocispec.Descriptor {
	tb.Helper()
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := s.PutBlob(context.Background(), repo, desc, bytes.NewReader(data)); err != nil {
		tb.Fatal(err)
	}
	return desc
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// listAll lists every page of list, pages of n entries (0: the whole
// list), and returns how many entries it saw.
func listAll[T any](tb testing.TB, n int, list func(transport.PageRequest) (transport.Page[T], error)) int {
	req := transport.PageRequest{N: n}
	seen := 0
	for {
		p, err := list(req)
		if err != nil {
			tb.Fatal(err)
		}
		seen += len(p.Items)
		if p.Next == "" {
			return seen
		}
		req.Next = p.Next
	}
}

// countSeq counts what seq yields, failing on its error.
func countSeq[T any](tb testing.TB, seq func(yield func(T, error) bool)) int {
	seen := 0
	for _, err := range seq {
		if err != nil {
			tb.Fatal(err)
		}
		seen++
	}
	return seen
}

// benchList runs one listing benchmark per page size, in memory (the
// Store) and over HTTP (regkit's client against the fake's server), each
// iteration listing all want entries.
func benchList(b *testing.B, want int, memory func(b *testing.B, page int) int, http func(b *testing.B, page int) int) {
	for _, page := range listPages {
		for _, via := range []struct {
			name string
			list func(b *testing.B, page int) int
		}{{"memory", memory}, {"http", http}} {
			b.Run(fmt.Sprintf("page=%d/%s", page, via.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if got := via.list(b, page); got != want {
						b.Fatalf("listed %d entries, want %d", got, want)
					}
				}
			})
		}
	}
}

// BenchmarkListTags lists every tag of a repository of 1,000, 10,000 and
// 100,000 tags, in pages of 100 and in one page.
func BenchmarkListTags(b *testing.B) {
	for _, n := range listSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := fake.NewStore()
			fillTags(b, s, "bench", n)
			repo := fake.Serve(b, fake.WithStore(s)).Registry().Repository("bench")
			benchList(b, n,
				func(b *testing.B, page int) int {
					return listAll(b, page, func(req transport.PageRequest) (transport.Page[string], error) {
						return s.ListTags(b.Context(), "bench", req)
					})
				},
				func(b *testing.B, page int) int {
					return countSeq(b, repo.Tags(b.Context(), &repository.ListOptions{PageSize: page, MaxPages: -1}))
				})
		})
	}
}

// BenchmarkListRepositories lists the catalog of a registry of 1,000,
// 10,000 and 100,000 repositories, in pages of 100 and in one page.
func BenchmarkListRepositories(b *testing.B) {
	for _, n := range listSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := fake.NewStore()
			fillRepositories(b, s, n)
			reg := fake.Serve(b, fake.WithStore(s)).Registry()
			benchList(b, n,
				func(b *testing.B, page int) int {
					return listAll(b, page, func(req transport.PageRequest) (transport.Page[string], error) {
						return s.ListRepositories(b.Context(), req)
					})
				},
				func(b *testing.B, page int) int {
					return countSeq(b, reg.Repositories(b.Context(), &repository.ListOptions{PageSize: page, MaxPages: -1}))
				})
		})
	}
}

// BenchmarkListReferrers lists every referrer of a manifest with 1,000,
// 10,000 and 100,000 referrers, in pages of 100 and in one page (over
// HTTP, the pages the server chooses).
func BenchmarkListReferrers(b *testing.B) {
	for _, n := range listSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := fake.NewStore()
			subject := fillReferrers(b, s, "bench", n)
			repo := fake.Serve(b, fake.WithStore(s)).Registry().Repository("bench")
			benchList(b, n,
				func(b *testing.B, page int) int {
					return listAll(b, page, func(req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
						return s.ListReferrers(b.Context(), "bench", subject, "", req)
					})
				},
				func(b *testing.B, page int) int {
					opts := &repository.ReferrersOptions{ListOptions: repository.ListOptions{PageSize: page, MaxPages: -1}}
					return countSeq(b, repo.Referrers(b.Context(), subject, opts))
				})
		})
	}
}
