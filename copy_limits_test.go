package regkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// endlessReferrers is a source whose referrers never end: each referrer it
// lists is a new artifact it makes up, whose subject is what was asked
// about. chain lists one referrer per subject, so that every referrer has
// one of its own (an endless chain); otherwise the root's referrers come
// one per page, each page linking to another (an endless list). It stops
// after stop referrers, so that a copy without bounds ends too.
type endlessReferrers struct {
	transport.Transport
	chain bool
	stop  int

	mu     sync.Mutex
	made   map[digest.Digest][]byte
	listed int // referrers listed
	calls  int // ListReferrers calls
}

func (e *endlessReferrers) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.listed >= e.stop || (!e.chain && req.Next == "" && e.made[subject] != nil) {
		return transport.Page[ocispec.Descriptor]{}, nil
	}
	sd, err := e.describe(ctx, repo, subject)
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	e.listed++
	empty := ocispec.DescriptorEmptyJSON
	empty.Data = nil
	body, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.example.endless", Config: empty, Layers: []ocispec.Descriptor{empty},
		Subject: &sd, Annotations: map[string]string{"n": strconv.Itoa(e.listed)},
	})
	d := digest.FromBytes(body)
	e.made[d] = body
	p := transport.Page[ocispec.Descriptor]{Items: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(body)), ArtifactType: "application/vnd.example.endless"}}}
	if !e.chain {
		p.Next = "page-" + strconv.Itoa(e.listed)
	}
	return p, nil
}

// describe returns the descriptor of a manifest of the source. e.mu is held.
func (e *endlessReferrers) describe(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	if body, ok := e.made[d]; ok {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(body))}, nil
	}
	return e.Transport.HeadManifest(ctx, repo, d.String())
}

func (e *endlessReferrers) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	e.mu.Lock()
	body, ok := e.made[digest.Digest(ref)]
	e.mu.Unlock()
	if ok {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest(ref), Size: int64(len(body))}, bytes.Clone(body), nil
	}
	return e.Transport.GetManifest(ctx, repo, ref)
}

func (e *endlessReferrers) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.made[digest.Digest(ref)]; ok {
		return e.describe(ctx, repo, digest.Digest(ref))
	}
	return e.Transport.HeadManifest(ctx, repo, ref)
}

// TestCopyReferrerBounds copies from sources whose referrers never end: an
// endless chain stops at the depth bound, an endless list at the count
// bound, with a *transport.LimitError, before anything is written, and after
// a bounded number of listings (issue 13, finding 7: Copy with Referrers
// walked an endless chain, 420 MiB in 10 s). Real referrers within the
// bounds are copied.
func TestCopyReferrerBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		chain      bool
		stop       int
		opts       regkit.CopyOptions
		wantUnit   string
		wantListed int // referrers the source listed
	}{
		{name: "endless chain, default depth", chain: true, stop: 200, wantUnit: "levels", wantListed: regkit.DefaultMaxReferrerDepth + 1},
		{name: "endless chain, depth 3", chain: true, stop: 200, opts: regkit.CopyOptions{MaxReferrerDepth: 3}, wantUnit: "levels", wantListed: 4},
		{name: "chain of 5, depth 5", chain: true, stop: 5, opts: regkit.CopyOptions{MaxReferrerDepth: 5}, wantListed: 5},
		{name: "endless list, 50 referrers", stop: 500, opts: regkit.CopyOptions{MaxReferrers: 50}, wantUnit: "referrers", wantListed: 51},
		{name: "list of 50, 50 referrers", stop: 50, opts: regkit.CopyOptions{MaxReferrers: 50}, wantListed: 50},
		{name: "endless list, no bound", stop: 300, opts: regkit.CopyOptions{MaxReferrers: -1}, wantListed: 300},
		{name: "endless list, 20 manifests", stop: 500, opts: regkit.CopyOptions{MaxReferrers: -1, MaxManifests: 20}, wantUnit: "manifests", wantListed: 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			base := fake.New().Repository("app")
			if _, err := base.Push(ctx, testImage(t, "app", "linux/amd64", 1, false), "3.0"); err != nil {
				t.Fatal(err)
			}
			empty := ocispec.DescriptorEmptyJSON
			if err := base.Transport().PutBlob(ctx, "app", empty, bytes.NewReader(empty.Data)); err != nil {
				t.Fatal(err)
			}
			src := &endlessReferrers{Transport: base.Transport(), chain: tc.chain, stop: tc.stop, made: map[digest.Digest][]byte{}}
			dst := fake.New().Repository("prod/app")
			opts := tc.opts
			opts.Referrers = true
			rep, err := regkit.Copy(ctx, repository.New(src, "app"), "3.0", dst, &opts)
			var le *transport.LimitError
			switch {
			case tc.wantUnit == "" && err != nil:
				t.Fatalf("Copy = %v, want success", err)
			case tc.wantUnit == "" && len(rep.Manifests) != 1+tc.wantListed:
				t.Errorf("Copy copied %d manifests, want %d", len(rep.Manifests), 1+tc.wantListed)
			case tc.wantUnit != "" && (!errors.As(err, &le) || le.Unit != tc.wantUnit || !errors.Is(err, transport.ErrLimitExceeded)):
				t.Errorf("Copy = %v, want a *transport.LimitError of %s", err, tc.wantUnit)
			}
			if src.listed != tc.wantListed {
				t.Errorf("the source listed %d referrers in %d calls, want %d", src.listed, src.calls, tc.wantListed)
			}
			if tc.wantUnit != "" {
				if _, err := dst.Transport().HeadManifest(ctx, "prod/app", "3.0"); !errors.Is(err, transport.ErrNotFound) {
					t.Errorf("after the failed copy, dst's tag 3.0: %v, want not found", err)
				}
			}
		})
	}
}

// nestedIndexes is a source whose tag "3.0" names an index that lists an
// index that lists an index… n deep.
type nestedIndexes struct {
	transport.Transport
	top  ocispec.Descriptor
	made map[digest.Digest][]byte
	gets int
}

func newNestedIndexes(base transport.Transport, n int) *nestedIndexes {
	s := &nestedIndexes{Transport: base, made: map[digest.Digest][]byte{}}
	children := []ocispec.Descriptor{}
	for range n {
		body, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: children})
		s.top = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(body), Size: int64(len(body))}
		s.made[s.top.Digest] = body
		children = []ocispec.Descriptor{s.top}
	}
	return s
}

func (s *nestedIndexes) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	s.gets++
	d := digest.Digest(ref)
	if ref == "3.0" {
		d = s.top.Digest
	}
	if body, ok := s.made[d]; ok {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: d, Size: int64(len(body))}, bytes.Clone(body), nil
	}
	return s.Transport.GetManifest(ctx, repo, ref)
}

// TestCopyIndexNesting copies indexes nested 100 deep: the copy stops at
// the nesting bound with a *transport.LimitError, having read no more than
// the bound; a nesting of 3 copies.
func TestCopyIndexNesting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		depth    int
		wantErr  bool
		maxReads int
	}{{depth: 100, wantErr: true, maxReads: 10}, {depth: 3, maxReads: 3}} {
		t.Run(strconv.Itoa(tc.depth), func(t *testing.T) {
			t.Parallel()
			src := newNestedIndexes(fake.New().Repository("app").Transport(), tc.depth)
			_, err := regkit.Copy(t.Context(), repository.New(src, "app"), "3.0", fake.New().Repository("prod/app"), nil)
			var le *transport.LimitError
			if tc.wantErr != errors.As(err, &le) || (tc.wantErr && le.Unit != "levels") || (!tc.wantErr && err != nil) {
				t.Errorf("Copy(indexes %d deep) = %v, want a LimitError: %v", tc.depth, err, tc.wantErr)
			}
			if src.gets > tc.maxReads {
				t.Errorf("Copy read %d manifests, want at most %d", src.gets, tc.maxReads)
			}
		})
	}
}
