package registrytest

import (
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// testNotFound pins what "not found" is, the same on every backend: a
// missing tag or digest, in a repository that exists or in one that does
// not, matches transport.ErrManifestUnknown and transport.ErrNotFound from
// every model method that reads a manifest. transport.ErrNameUnknown may
// match too, but only for a repository that does not exist: a HEAD has no
// body and distribution answers MANIFEST_UNKNOWN for unknown repositories,
// so not every backend can tell.
func testNotFound(t *testing.T, s *suite) {
	e := s.env(t)
	existing := e.repo("myapp1")
	e.mustPush(t, existing, newImage(t, linuxAMD64, 1), "1.0")
	missingDigest := digest.FromString("no such manifest " + randomHex(8))

	type call struct {
		name string
		run  func(ctx context.Context, repo string) error
	}
	calls := []call{
		{"Tag.Resolve", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Tag("missing").Resolve(ctx)
			return err
		}},
		{"Tag.Manifest", func(ctx context.Context, repo string) error {
			_, _, err := e.reg.Repository(repo).Tag("missing").Manifest(ctx)
			return err
		}},
		{"Tag.Image", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Tag("missing").Image(ctx)
			return err
		}},
		{"Tag.PlatformImage", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Tag("missing").PlatformImage(ctx, linuxAMD64)
			return err
		}},
		{"Tag.Index", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Tag("missing").Index(ctx)
			return err
		}},
		{"Repository.Resolve(tag)", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Resolve(ctx, "missing")
			return err
		}},
		{"Repository.Resolve(digest)", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Resolve(ctx, missingDigest.String())
			return err
		}},
		{"Repository.Manifest", func(ctx context.Context, repo string) error {
			_, _, err := e.reg.Repository(repo).Manifest(ctx, missingDigest)
			return err
		}},
		{"Repository.Image", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Image(ctx, missingDigest)
			return err
		}},
		{"Repository.Index", func(ctx context.Context, repo string) error {
			_, err := e.reg.Repository(repo).Index(ctx, missingDigest)
			return err
		}},
	}
	for _, repo := range []struct {
		name   string
		exists bool
	}{{existing, true}, {e.repo("never-pushed"), false}} {
		for _, c := range calls {
			err := c.run(e.ctx, repo.name)
			if !errors.Is(err, transport.ErrManifestUnknown) || !errors.Is(err, transport.ErrNotFound) {
				t.Errorf("%s in %s repository = %v, want ErrManifestUnknown and ErrNotFound", c.name, existence(repo.exists), err)
			}
			if repo.exists && errors.Is(err, transport.ErrNameUnknown) {
				t.Errorf("%s in an existing repository = %v, matches ErrNameUnknown", c.name, err)
			}
		}
	}
}

func existence(exists bool) string {
	if exists {
		return "an existing"
	}
	return "a missing"
}

// testExists pins Tag.Exists: one HEAD, true for a tag that is there, false
// and no error for a missing tag in an existing or a missing repository.
func testExists(t *testing.T, s *suite) {
	e := s.env(t)
	name := e.repo("myapp1")
	e.mustPush(t, name, newImage(t, linuxAMD64, 1), "1.0")
	for _, tc := range []struct {
		repo, tag string
		want      bool
	}{
		{name, "1.0", true},
		{name, "missing", false},
		{e.repo("never-pushed"), "1.0", false},
	} {
		e.count.reset()
		got, err := e.reg.Repository(tc.repo).Tag(tc.tag).Exists(e.ctx)
		if got != tc.want || err != nil {
			t.Errorf("Tag(%s:%s).Exists() = %v, %v, want %v, nil", tc.repo, tc.tag, got, err, tc.want)
		}
		if h, g := e.count.take("HeadManifest"), e.count.take("GetManifest"); h != 1 || g != 0 {
			t.Errorf("Tag(%s:%s).Exists() made %d HEAD and %d GET, want 1 HEAD", tc.repo, tc.tag, h, g)
		}
	}
	if ok, err := e.reg.Repository(name).Tag("-bad").Exists(e.ctx); ok || !errors.Is(err, transport.ErrTagInvalid) {
		t.Errorf("Tag(-bad).Exists() = %v, %v, want false, ErrTagInvalid", ok, err)
	}
}
