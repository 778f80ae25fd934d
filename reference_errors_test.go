package regkit_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// TestReferenceErrorsThroughModel goes through the model (registry,
// repository, tag, Copy) with bad names, tags and digests: every error
// matches both the transport code's sentinel and the reference package's,
// is a *transport.Error of that code, and names the bad input once.
func TestReferenceErrorsThroughModel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	reg := fake.New()
	good, other := reg.Repository("demo"), reg.Repository("other")
	img := testImage(t, "reference-errors", "linux/amd64", 1, false)
	desc, err := good.Push(ctx, img, "v1")
	require.NoError(t, err)
	upper := reg.Repository("MyApp")
	const badDigest = digest.Digest("sha256:abc")

	tests := []struct {
		name  string
		run   func() error
		code  transport.Code // the transport sentinel
		ref   error          // the reference sentinel
		input string         // named once in the message
	}{
		{"Repository.Resolve, upper case", func() error { _, err := upper.Resolve(ctx, "v1"); return err }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Repository.Manifest, upper case", func() error { _, _, err := upper.Manifest(ctx, "v1"); return err }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Repository.Image, upper case", func() error { _, err := upper.Image(ctx, desc.Digest); return err }, transport.ErrNameInvalid, reference.ErrInvalidRepository, "MyApp"},
		{"Repository.Push, upper case", func() error { _, err := upper.Push(ctx, img, "v1"); return err }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Repository.PushIndex, upper case", func() error {
			_, err := upper.PushPlatforms(ctx, nil, "v1")
			return err
		}, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Repository.Tags, upper case", func() error {
			for _, err := range upper.Tags(ctx, nil) {
				return err
			}
			return nil
		}, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Tag.Resolve, upper-case repository", func() error { _, err := upper.Tag("v1").Resolve(ctx); return err }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Tag.Point, upper-case repository", func() error { return upper.Tag("v1").Point(ctx, desc) }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Tag.Resolve, path with ..", func() error { _, err := reg.Repository("a/../b").Tag("x").Resolve(ctx); return err }, transport.ErrNameInvalid, reference.ErrInvalidRepository, "a/../b"},
		{"Tag.Resolve, bad tag", func() error { _, err := good.Tag("-bad").Resolve(ctx); return err }, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
		{"Tag.Image, bad tag", func() error { _, err := good.Tag("-bad").Image(ctx); return err }, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
		{"Tag.Index, bad tag", func() error { _, err := good.Tag("-bad").Index(ctx); return err }, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
		{"Tag.Point, bad tag", func() error { return good.Tag("-bad").Point(ctx, desc) }, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
		{"Tag.Delete, tag too long", func() error { _, err := good.Tag(strings.Repeat("a", 129)).Delete(ctx); return err }, transport.ErrTagInvalid, reference.ErrTagTooLong, strings.Repeat("a", 129)},
		{"Tag.PointIf, bad current digest", func() error { return good.Tag("v1").PointIf(ctx, desc, badDigest) }, transport.ErrDigestInvalid, reference.ErrDigestLength, string(badDigest)},
		{"Repository.Resolve, bad tag", func() error { _, err := good.Resolve(ctx, "-bad"); return err }, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
		{"Repository.Push, bad tag", func() error { _, err := good.Push(ctx, img, "ok", "bad tag!"); return err }, transport.ErrTagInvalid, reference.ErrInvalidTag, "bad tag!"},
		{"Repository.Image, bad digest", func() error { _, err := good.Image(ctx, badDigest); return err }, transport.ErrDigestInvalid, reference.ErrDigestLength, string(badDigest)},
		{"Repository.Resolve, bad digest", func() error { _, err := good.Resolve(ctx, string(badDigest)); return err }, transport.ErrDigestInvalid, reference.ErrInvalidDigest, string(badDigest)},
		{"Repository.Referrers, bad digest", func() error {
			for _, err := range good.Referrers(ctx, badDigest, nil) {
				return err
			}
			return nil
		}, transport.ErrDigestInvalid, reference.ErrDigestLength, string(badDigest)},
		{"Copy from an upper-case repository", func() error { _, err := regkit.Copy(ctx, upper, "v1", good, nil); return err }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Copy to an upper-case repository", func() error { _, err := regkit.Copy(ctx, good, "v1", upper, nil); return err }, transport.ErrNameInvalid, reference.ErrUppercase, "MyApp"},
		{"Copy of a bad tag", func() error { _, err := regkit.Copy(ctx, good, "-bad", other, nil); return err }, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
		{"Copy of a bad digest", func() error { _, err := regkit.Copy(ctx, good, string(badDigest), other, nil); return err }, transport.ErrDigestInvalid, reference.ErrDigestLength, string(badDigest)},
		{"Copy to a bad tag", func() error {
			_, err := regkit.Copy(ctx, good, "v1", other, &regkit.CopyOptions{Tags: []string{"-bad"}})
			return err
		}, transport.ErrTagInvalid, reference.ErrInvalidTag, "-bad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			t.Log(err)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.code) {
				t.Errorf("%v\ndoes not match transport.%s", err, string(tc.code))
			}
			if !errors.Is(err, tc.ref) {
				t.Errorf("%v\ndoes not match reference.%v", err, tc.ref)
			}
			var te *transport.Error
			if !errors.As(err, &te) || te.Code != tc.code {
				t.Errorf("%v\nis no *transport.Error of code %s", err, string(tc.code))
			}
			if n := strings.Count(err.Error(), tc.input); n != 1 {
				t.Errorf("%v\nnames %q %d times, want once", err, tc.input, n)
			}
		})
	}
}
