package ocilayout

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestResolveAllocsConstant checks that resolving a tag costs as many
// allocations in a repository of 10,000 tags as in one of 10: index.json is
// not read and parsed again on every call.
func TestResolveAllocsConstant(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a layout of 10,000 tags")
	}
	ctx := context.Background()
	allocs := func(n int) float64 {
		s, err := NewStore(benchLayout(t, n))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		tag := benchTag(n / 2)
		return testing.AllocsPerRun(20, func() {
			if _, err := s.HeadManifest(ctx, benchRepo, tag); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A few allocations of slack (the race detector once added one); a
	// resolve that read index.json made 99,870 at 10,000 tags, 168 at 10.
	small, large := allocs(10), allocs(10000)
	if large > small+4 {
		t.Errorf("a resolve allocates %v times at 10,000 tags, %v at 10: want no more than 4 more", large, small)
	}
}

// TestCacheSeesOtherWriters checks that a Store whose index.json is cached
// sees the writes of another Store over the same directory, and of a tool
// that replaces index.json by a rename, as skopeo does.
func TestCacheSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	dir := benchLayout(t, 3)
	a, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	digestOf := func(tag string) string {
		t.Helper()
		d, err := a.HeadManifest(ctx, benchRepo, tag)
		if err != nil {
			return err.Error()
		}
		return d.Digest.String()
	}
	want := digest.FromBytes(benchManifest(2)).String()
	if got := digestOf(benchTag(0)); got == want {
		t.Fatalf("tag 0 is %s already", got)
	}
	for i, step := range []struct {
		name  string
		write func() error
		tag   string
		want  string
	}{
		{"another Store adds a tag", func() error {
			_, err := b.PutManifest(ctx, benchRepo, "new", ocispec.MediaTypeImageManifest, benchManifest(2), nil)
			return err
		}, "new", want},
		{"another Store moves a tag", func() error {
			_, err := b.PutManifest(ctx, benchRepo, benchTag(0), ocispec.MediaTypeImageManifest, benchManifest(2), nil)
			return err
		}, benchTag(0), want},
		{"another Store deletes a tag", func() error {
			_, err := b.DeleteTag(ctx, benchRepo, "new")
			return err
		}, "new", "manifest unknown"},
		{"a tool renames a new index.json of the same size into place", func() error {
			// Tags t000000 and t000001 swap manifests: same bytes, same size.
			p := filepath.Join(dir, benchRepo, indexFile)
			old, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			x := strings.NewReplacer(`"t000000"`, `"t000001"`, `"t000001"`, `"t000000"`).Replace(string(old))
			if err := os.WriteFile(p+".tmp", []byte(x), 0o644); err != nil {
				return err
			}
			return os.Rename(p+".tmp", p)
		}, benchTag(1), want},
	} {
		if i == 3 {
			digestOf(benchTag(1)) // cached as it is now
		}
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := digestOf(step.tag); !strings.Contains(got, step.want) {
			t.Errorf("%s: tag %s resolves to %q, want %q", step.name, step.tag, got, step.want)
		}
	}
}

// TestBatchWritesTagsAtEnd checks that the tags put in a batch are written
// when it ends, even when it fails: reads inside it do not see them yet.
func TestBatchWritesTagsAtEnd(t *testing.T) {
	ctx := context.Background()
	s, err := NewStore(benchLayout(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := filepath.Join(s.Dir(), benchRepo, indexFile)
	before, _ := os.Stat(p)
	fail := errors.New("stop")
	err = s.Batch(ctx, benchRepo, func(ctx context.Context) error {
		for i, tag := range []string{"a", "b"} {
			if _, err := s.PutManifest(ctx, benchRepo, tag, "", benchManifest(i+5), nil); err != nil {
				return err
			}
		}
		if _, err := s.HeadManifest(ctx, benchRepo, "a"); err == nil {
			t.Error("tag a is seen inside the batch")
		}
		if now, _ := os.Stat(p); !os.SameFile(before, now) {
			t.Error("index.json was written inside the batch")
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("Batch = %v, want f's error", err)
	}
	for i, tag := range []string{"a", "b"} {
		d, err := s.HeadManifest(ctx, benchRepo, tag)
		if err != nil || d.Digest != digest.FromBytes(benchManifest(i+5)) {
			t.Errorf("after the batch, tag %s = %v, %v", tag, d.Digest, err)
		}
	}
}
