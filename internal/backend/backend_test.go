package backend

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/transport"
)

var (
	goodD   = digest.Digest("sha256:" + strings.Repeat("a", 64))
	sha512D = digest.Digest("sha512:" + strings.Repeat("b", 128))
)

// tcase is one case of a function of In that returns an Out and an error.
type tcase[In any, Out comparable] struct {
	name    string
	in      In
	want    Out   // compared whatever the error
	wantErr error // matched with errors.Is; nil means success
}

// run checks fn, named what in failure messages, against each case in a
// parallel subtest.
func run[In any, Out comparable](t *testing.T, what string, fn func(In) (Out, error), cases []tcase[In, Out]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := fn(tc.in)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("%s(%+v) = %v, %v; want %v, %v", what, tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// noValue adapts a check that returns only an error to run.
func noValue[In any](f func(In) error) func(In) (struct{}, error) {
	return func(in In) (struct{}, error) { return struct{}{}, f(in) }
}

func TestBegin(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	type in struct {
		ctx  context.Context
		repo string
	}
	run(t, "Begin", noValue(func(c in) error { return Begin(c.ctx, c.repo) }), []tcase[in, struct{}]{
		{name: "valid", in: in{context.Background(), "library/alpine"}},
		{name: "invalid name", in: in{context.Background(), "Upper"}, wantErr: transport.ErrNameInvalid},
		{name: "done context comes first", in: in{cancelled, "Upper"}, wantErr: context.Canceled},
	})
}

func TestCheckCommit(t *testing.T) {
	t.Parallel()
	run(t, "CheckCommit", CheckCommit, []tcase[ocispec.Descriptor, digest.Digest]{
		{name: "known size", in: ocispec.Descriptor{Digest: goodD, Size: 3}, want: goodD},
		{name: "unknown size", in: ocispec.Descriptor{Digest: goodD}, want: goodD},
		{name: "negative size", in: ocispec.Descriptor{Digest: goodD, Size: -1}, wantErr: transport.ErrSizeInvalid},
		{name: "bad digest first", in: ocispec.Descriptor{Digest: "sha256:x", Size: -1}, wantErr: transport.ErrDigestInvalid},
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	other := digest.FromString("other")
	type in struct {
		wantSize int64
		got      digest.Digest
		size     int64
	}
	verify := func(c in) (string, error) { // the message, to pin it
		err := Verify(goodD, c.wantSize, c.got, c.size)
		if err != nil {
			return err.Error(), err
		}
		return "", nil
	}
	run(t, "Verify", verify, []tcase[in, string]{
		{name: "match", in: in{4, goodD, 4}},
		{name: "size unknown", in: in{0, goodD, 99}},
		{name: "too long", in: in{4, goodD, 5}, wantErr: transport.ErrSizeInvalid,
			want: "size invalid: blob " + string(goodD) + ": got more than the 4 bytes declared"},
		{name: "too short", in: in{4, goodD, 3}, wantErr: transport.ErrSizeInvalid,
			want: "size invalid: blob " + string(goodD) + ": got 3 bytes, 4 declared"},
		{name: "size before digest", in: in{4, other, 3}, wantErr: transport.ErrSizeInvalid,
			want: "size invalid: blob " + string(goodD) + ": got 3 bytes, 4 declared"},
		{name: "wrong digest", in: in{4, other, 4}, wantErr: transport.ErrDigestInvalid,
			want: "digest invalid: blob content has digest " + string(other) + ", not " + string(goodD)},
	})
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	type in struct {
		tag  string
		opts *transport.PutManifestOptions
	}
	ifMatch := func(c in) (digest.Digest, error) { return IfMatch(c.tag, c.opts) }
	run(t, "IfMatch", ifMatch, []tcase[in, digest.Digest]{
		{name: "nil options", in: in{"v1", nil}},
		{name: "no if-match", in: in{"v1", &transport.PutManifestOptions{}}},
		{name: "tag", in: in{"v1", &transport.PutManifestOptions{IfMatch: goodD}}, want: goodD},
		{name: "a put by digest ignores it", in: in{"", &transport.PutManifestOptions{IfMatch: "junk"}}},
		{name: "malformed", in: in{"v1", &transport.PutManifestOptions{IfMatch: "junk"}}, wantErr: transport.ErrDigestInvalid},
	})
}

func TestManifestDigest(t *testing.T) {
	t.Parallel()
	body := []byte(`{"schemaVersion":2}`)
	manifestDigest := func(d digest.Digest) (digest.Digest, error) { return ManifestDigest(d, body) }
	run(t, "ManifestDigest", manifestDigest, []tcase[digest.Digest, digest.Digest]{
		{name: "by tag", in: "", want: digest.SHA256.FromBytes(body)},
		{name: "by sha256", in: digest.SHA256.FromBytes(body), want: digest.SHA256.FromBytes(body)},
		{name: "by sha512", in: digest.SHA512.FromBytes(body), want: digest.SHA512.FromBytes(body)},
		{name: "mismatch", in: goodD, wantErr: transport.ErrDigestInvalid},
	})
}

func TestForeign(t *testing.T) {
	t.Parallel()
	foreign := func(l ocispec.Descriptor) (bool, error) { return Foreign(l), nil }
	run(t, "Foreign", foreign, []tcase[ocispec.Descriptor, bool]{
		{name: "OCI layer", in: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip}},
		{name: "Docker layer", in: ocispec.Descriptor{MediaType: image.MediaTypeDockerLayer}},
		{name: "with urls", in: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, URLs: []string{"https://example.com/l"}}, want: true},
		{name: "Docker foreign", in: ocispec.Descriptor{MediaType: image.MediaTypeDockerForeignLayer}, want: true},
		{name: "OCI non-distributable", in: ocispec.Descriptor{MediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}, want: true},
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	message := func(err error) (string, error) { return err.Error(), err }
	run(t, "error", message, []tcase[error, string]{
		{name: "name unknown", in: NameUnknown("a/b"), wantErr: transport.ErrNameUnknown,
			want: `name unknown: repository "a/b" not found`},
		{name: "blob unknown", in: BlobUnknown("a", goodD), wantErr: transport.ErrBlobUnknown,
			want: `blob unknown: blob ` + string(goodD) + ` not found in repository "a"`},
		{name: "manifest unknown", in: ManifestUnknown("a", goodD), wantErr: transport.ErrManifestUnknown,
			want: `manifest unknown: manifest ` + string(goodD) + ` not found in repository "a"`},
		{name: "tag unknown", in: TagUnknown("a", "v1"), wantErr: transport.ErrManifestUnknown,
			want: `manifest unknown: tag "v1" not found in repository "a"`},
		{name: "manifest blob unknown", in: ManifestBlobUnknown("manifest", goodD, "a"), wantErr: transport.ErrManifestBlobUnknown,
			want: `manifest blob unknown: manifest ` + string(goodD) + ` not found in repository "a"`},
		{name: "manifest invalid", in: ManifestInvalid("layer %d: %s", 2, "bad"), wantErr: transport.ErrManifestInvalid,
			want: `manifest invalid: layer 2: bad`},
	})
}

func TestPage(t *testing.T) {
	t.Parallel()
	items := []string{"a", "b", "c", "d", "e"}
	type in struct {
		req     transport.PageRequest
		maxPage int
	}
	type out struct{ items, next string } // items joined with ","
	page := func(c in) (out, error) {
		p := Page(items, Identity, c.req, c.maxPage)
		if p.Items == nil {
			return out{}, errors.New("nil Items")
		}
		return out{strings.Join(p.Items, ","), p.Next}, nil
	}
	run(t, "Page", page, []tcase[in, out]{
		{name: "all", in: in{}, want: out{"a,b,c,d,e", ""}},
		{name: "first page", in: in{req: transport.PageRequest{N: 2}}, want: out{"a,b", "b"}},
		{name: "after next", in: in{req: transport.PageRequest{N: 2, Next: "b"}}, want: out{"c,d", "d"}},
		{name: "next wins over last", in: in{req: transport.PageRequest{Next: "c", Last: "a"}}, want: out{"d,e", ""}},
		{name: "after last", in: in{req: transport.PageRequest{Last: "c"}}, want: out{"d,e", ""}},
		{name: "last between entries", in: in{req: transport.PageRequest{Last: "bb"}}, want: out{"c,d,e", ""}},
		{name: "exact fit has no next", in: in{req: transport.PageRequest{N: 2, Last: "c"}}, want: out{"d,e", ""}},
		{name: "past the end", in: in{req: transport.PageRequest{Last: "z"}}, want: out{"", ""}},
		{name: "huge n", in: in{req: transport.PageRequest{N: math.MaxInt, Last: "a"}}, want: out{"b,c,d,e", ""}},
		{name: "cap with n 0", in: in{maxPage: 3}, want: out{"a,b,c", "c"}},
		{name: "cap below n", in: in{req: transport.PageRequest{N: 4}, maxPage: 2}, want: out{"a,b", "b"}},
		{name: "n below cap", in: in{req: transport.PageRequest{N: 1}, maxPage: 2}, want: out{"a", "a"}},
		{name: "cap above the rest", in: in{req: transport.PageRequest{Next: "c"}, maxPage: 10}, want: out{"d,e", ""}},
	})
}

func TestPageKeyAndCopy(t *testing.T) {
	t.Parallel()
	type entry struct{ k, v string }
	items := []entry{{"a", "1"}, {"b", "2"}, {"c", "3"}}
	got := Page(items, func(e entry) string { return e.k }, transport.PageRequest{N: 2}, 0)
	if !slices.Equal(got.Items, items[:2]) || got.Next != "b" {
		t.Fatalf("Page = %+v, want the first two entries and next %q", got, "b")
	}
	got.Items[0].v = "changed"
	if items[0].v != "1" {
		t.Errorf("Page shares memory with its input: items[0] = %+v", items[0])
	}
	if empty := Page[entry](nil, nil, transport.PageRequest{N: 3}, 0); empty.Items == nil || len(empty.Items) != 0 || empty.Next != "" {
		t.Errorf("Page(nil) = %+v, want an empty, non-nil page", empty)
	}
}
