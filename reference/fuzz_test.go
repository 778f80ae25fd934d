package reference_test

import (
	"errors"
	"testing"

	"github.com/regkit/regkit/reference"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ubuntu", "ubuntu:18.04", "library/ubuntu", "amouat/revealjs",
		"localhost:5000/myapp1:3.0", "myregistryhost:5000/namespace/repo-name:tag",
		"[::1]:5000/x:y", "localhost/x", "index.docker.io/library/ubuntu",
		"docker.io/example.com/x", "Foo/bar", "ghcr.io/a/b:1@" + string(sha256),
		"x@" + string(sha512), "ubuntu@md5:abc", "ubuntu@sha256:abc", "Ubuntu", "ubuntu:ta$g",
		hex64, string(sha256), "", ":", "@", "/", "a:b/c:d", "x:" + hex64,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := reference.Parse(s)
		if err != nil {
			var re *reference.Error
			if !errors.As(err, &re) || re.Input != s || re.Err == nil {
				t.Fatalf("Parse(%q) error = %#v, want a *reference.Error for the input", s, err)
			}
			if r != (reference.Reference{}) {
				t.Fatalf("Parse(%q) = %#v on error, want zero", s, r)
			}
			return
		}
		if r.Registry == "" || r.Repository == "" || (r.Tag == "" && r.Digest == "") {
			t.Fatalf("Parse(%q) = %#v, want registry, repository and a tag or digest", s, r)
		}
		for _, form := range []string{r.String(), r.Familiar()} {
			back, err := reference.Parse(form)
			if err != nil || back != r {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v (round trip of %q)", form, back, err, r, s)
			}
		}
		if err := reference.ValidateRepository(r.Repository); err != nil {
			t.Fatalf("ValidateRepository(%q) of parsed %q = %v", r.Repository, s, err)
		}
		if err := reference.ValidateRegistry(r.Registry); err != nil {
			t.Fatalf("ValidateRegistry(%q) of parsed %q = %v", r.Registry, s, err)
		}
		if r.Tag != "" {
			if err := reference.ValidateTag(r.Tag); err != nil {
				t.Fatalf("ValidateTag(%q) of parsed %q = %v", r.Tag, s, err)
			}
		}
		if r.Digest != "" {
			if _, err := reference.ValidateDigest(string(r.Digest)); err != nil {
				t.Fatalf("ValidateDigest(%q) of parsed %q = %v", r.Digest, s, err)
			}
		}
	})
}
