package regkit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// wideIndex is a source whose tag "3.0" names an index of n image
// manifests, each an artifact with no layers that it makes up: a copy that
// walked them would spend a HEAD at the destination and a GET at the source
// on each, then write it. Past 1,000 manifests, only the first 1,000 are
// made up, and the others are digests of nothing (making up a hundred
// thousand takes minutes under the race detector).
type wideIndex struct {
	transport.Transport
	top  ocispec.Descriptor
	made map[digest.Digest][]byte

	mu          sync.Mutex
	gets, heads int
}

func newWideIndex(base transport.Transport, n int) *wideIndex {
	w := &wideIndex{Transport: base, made: make(map[digest.Digest][]byte, n+1)}
	// Written out by hand, for speed under the race detector.
	var b strings.Builder
	b.Grow(n * 130)
	b.WriteString(`{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `","manifests":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i >= 1000 {
			fmt.Fprintf(&b, `{"mediaType":%q,"digest":"sha256:%064x","size":500}`, ocispec.MediaTypeImageManifest, i)
			continue
		}
		body := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.example.wide","config":{"mediaType":%q,"digest":%q,"size":2},"layers":[],"annotations":{"n":"%d"}}`,
			ocispec.MediaTypeImageManifest, ocispec.MediaTypeEmptyJSON, ocispec.DescriptorEmptyJSON.Digest, i)
		d := digest.FromBytes(body)
		w.made[d] = body
		fmt.Fprintf(&b, `{"mediaType":%q,"digest":%q,"size":%d}`, ocispec.MediaTypeImageManifest, d, len(body))
	}
	b.WriteString("]}")
	body := []byte(b.String())
	w.top = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(body), Size: int64(len(body))}
	w.made[w.top.Digest] = body
	return w
}

// describe returns the descriptor of ref, when w made it up.
func (w *wideIndex) describe(ref string) (ocispec.Descriptor, []byte, bool) {
	d := digest.Digest(ref)
	if ref == "3.0" {
		d = w.top.Digest
	}
	body, ok := w.made[d]
	mt := ocispec.MediaTypeImageManifest
	if d == w.top.Digest {
		mt = ocispec.MediaTypeImageIndex
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(body))}, body, ok
}

func (w *wideIndex) GetManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, []byte, error) {
	w.mu.Lock()
	w.gets++
	w.mu.Unlock()
	if desc, body, ok := w.describe(ref); ok {
		return desc, bytes.Clone(body), nil
	}
	return w.Transport.GetManifest(ctx, repo, ref)
}

func (w *wideIndex) HeadManifest(ctx context.Context, repo, ref string) (ocispec.Descriptor, error) {
	w.mu.Lock()
	w.heads++
	w.mu.Unlock()
	if desc, _, ok := w.describe(ref); ok {
		return desc, nil
	}
	return w.Transport.HeadManifest(ctx, repo, ref)
}

// TestCopyManifestBound copies indexes wider than the bound on the
// manifests of a copy: the copy fails with a *transport.LimitError as soon
// as it has read the index, having asked nothing about its children and
// written nothing (issue 13, finding 7: an index may list over a million
// manifests, each costing a HEAD and a GET). An index within the bound
// copies.
func TestCopyManifestBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wide    int // children of a made-up index; 0 for a real index of 3 images
		opts    regkit.CopyOptions
		wantErr bool
	}{
		{name: "default bound, one child past it", wide: regkit.DefaultMaxManifests, wantErr: true},
		{name: "50 children, bound 20", wide: 50, opts: regkit.CopyOptions{MaxManifests: 20}, wantErr: true},
		{name: "index of 3, bound 3", opts: regkit.CopyOptions{MaxManifests: 3}, wantErr: true},
		{name: "index of 3, bound 4", opts: regkit.CopyOptions{MaxManifests: 4}},
		{name: "index of 3, no bound", opts: regkit.CopyOptions{MaxManifests: -1}},
		{name: "index of 3, default bound"},
		{name: "20 children, bound 21", wide: 20, opts: regkit.CopyOptions{MaxManifests: 21}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.wide >= regkit.DefaultMaxManifests && testing.Short() {
				t.Skip("an index of a hundred thousand manifests takes seconds to decode under -race")
			}
			ctx := t.Context()
			base := fake.New().Repository("app")
			var wide *wideIndex
			src := base
			if tc.wide > 0 {
				empty := ocispec.DescriptorEmptyJSON
				require.NoError(t, base.Transport().PutBlob(ctx, "app", empty, bytes.NewReader(empty.Data)))
				wide = newWideIndex(base.Transport(), tc.wide)
				src = repository.New(wide, "app")
			} else {
				pushPlatforms(t, base, false)
			}
			srv, reg := serve(t)
			dst := reg.Repository("prod/app")
			srv.ResetRequests()
			opts := tc.opts
			rep, err := regkit.Copy(ctx, src, "3.0", dst, &opts)
			reqs := srv.Requests()
			if wide != nil {
				t.Logf("src: %d GETs, %d HEADs; dst: %d requests, writes: %v", wide.gets, wide.heads, len(reqs), !onlyReads(reqs))
			}
			if !tc.wantErr {
				require.NoError(t, err)
				require.Len(t, rep.Manifests, max(4, tc.wide+1))
				return
			}
			var le *transport.LimitError
			require.ErrorAs(t, err, &le)
			require.ErrorIs(t, err, transport.ErrLimitExceeded)
			require.Equal(t, "manifests", le.Unit)
			require.Equal(t, "CopyOptions.MaxManifests", le.Option)
			t.Logf("%v", err)
			require.True(t, onlyReads(reqs), "nothing written to dst:\n%s", requestLines(reqs))
			requireNoTag(t, dst, "3.0")
			if wide != nil {
				require.LessOrEqual(t, wide.gets+wide.heads, 1, "the source was asked only for the index")
				require.LessOrEqual(t, len(reqs), 2, "dst was asked only about the index:\n%s", requestLines(reqs))
			}
		})
	}
}

// TestCopyManifestBytesBound copies an index of 3 images with bounds on the
// bytes of manifests a copy holds: past the bound the copy fails with a
// *transport.LimitError, having written nothing; within it (or without
// one), it copies. Manifests dst has, and so are not read, do not count.
func TestCopyManifestBytesBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		max      func(total, index int64) int64
		dstHasIt bool
		wantErr  bool
	}{
		{name: "one byte short", max: func(total, _ int64) int64 { return total - 1 }, wantErr: true},
		{name: "the index only", max: func(_, index int64) int64 { return index }, wantErr: true},
		{name: "exactly enough", max: func(total, _ int64) int64 { return total }},
		{name: "no bound", max: func(int64, int64) int64 { return -1 }},
		{name: "default bound", max: func(int64, int64) int64 { return 0 }},
		{name: "dst has it, the index only", max: func(_, index int64) int64 { return index }, dstHasIt: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			src := fake.New().Repository("app")
			ix, imgs := pushPlatforms(t, src, false)
			index := ix.Descriptor().Size
			total := index
			for _, img := range imgs {
				total += img.Descriptor().Size
			}
			srv, reg := serve(t)
			dst := reg.Repository("prod/app")
			if tc.dstHasIt {
				_, err := regkit.Copy(ctx, src, "3.0", dst, nil)
				require.NoError(t, err)
			}
			srv.ResetRequests()
			_, err := regkit.Copy(ctx, src, "3.0", dst, &regkit.CopyOptions{MaxManifestBytes: tc.max(total, index)})
			reqs := srv.Requests()
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			var le *transport.LimitError
			require.ErrorAs(t, err, &le)
			require.True(t, errors.Is(err, transport.ErrLimitExceeded) && le.Unit == "bytes" && le.Option == "CopyOptions.MaxManifestBytes", "%v", err)
			t.Logf("%v", err)
			require.True(t, onlyReads(reqs), "nothing written to dst:\n%s", requestLines(reqs))
			requireNoTag(t, dst, "3.0")
		})
	}
}
