package reference_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/reference"
)

var (
	hex64  = strings.Repeat("0123456789abcdef", 4)
	hex128 = strings.Repeat("0123456789abcdef", 8)
	sha256 = digest.Digest("sha256:" + hex64)
	sha512 = digest.Digest("sha512:" + hex128)
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string              // subtest name
		in       string              // input to Parse
		want     reference.Reference // parsed value; ignored when wantErr is set
		str      string              // want String(); "" means "do not check"
		familiar string              // want Familiar(); "" means "do not check"
		ref      string              // want Ref(); "" means "do not check"
		wantErr  error               // sentinel the error must match; nil means success
		wantPart reference.Part      // part the error must blame, when wantErr is set
	}{
		// Docker Hub normalisation.
		{name: "official image", in: "ubuntu",
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "latest"},
			str:  "docker.io/library/ubuntu:latest", familiar: "ubuntu:latest", ref: "latest"},
		{name: "official image with tag", in: "ubuntu:18.04",
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "18.04"},
			str:  "docker.io/library/ubuntu:18.04", familiar: "ubuntu:18.04", ref: "18.04"},
		{name: "explicit library namespace", in: "library/ubuntu",
			want:     reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "latest"},
			familiar: "ubuntu:latest"},
		{name: "user namespace", in: "amouat/revealjs",
			want: reference.Reference{Registry: "docker.io", Repository: "amouat/revealjs", Tag: "latest"},
			str:  "docker.io/amouat/revealjs:latest", familiar: "amouat/revealjs:latest"},
		{name: "docker.io without library", in: "docker.io/ubuntu",
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "latest"}},
		{name: "fully qualified docker hub", in: "docker.io/library/ubuntu:latest",
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "latest"},
			str:  "docker.io/library/ubuntu:latest"},
		{name: "legacy index domain", in: "index.docker.io/library/ubuntu",
			want:     reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "latest"},
			familiar: "ubuntu:latest"},
		{name: "legacy index domain, official", in: "index.docker.io/ubuntu:22.04",
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Tag: "22.04"}},
		{name: "library with nested path keeps prefix", in: "docker.io/library/a/b",
			want:     reference.Reference{Registry: "docker.io", Repository: "library/a/b", Tag: "latest"},
			familiar: "library/a/b:latest"},
		{name: "hub repo that looks like a host keeps docker.io", in: "docker.io/example.com/x",
			want:     reference.Reference{Registry: "docker.io", Repository: "example.com/x", Tag: "latest"},
			familiar: "docker.io/example.com/x:latest"},
		{name: "bare localhost:port is a hub repo with a tag", in: "localhost:5000",
			want: reference.Reference{Registry: "docker.io", Repository: "library/localhost", Tag: "5000"}},
		{name: "upper-case first component is a host", in: "Foo/bar",
			want: reference.Reference{Registry: "Foo", Repository: "bar", Tag: "latest"}, familiar: "Foo/bar:latest"},

		// Other registries.
		{name: "registry with port, namespace and tag", in: "myregistryhost:5000/namespace/repo-name:tag",
			want: reference.Reference{Registry: "myregistryhost:5000", Repository: "namespace/repo-name", Tag: "tag"},
			str:  "myregistryhost:5000/namespace/repo-name:tag", familiar: "myregistryhost:5000/namespace/repo-name:tag"},
		{name: "localhost with port", in: "localhost:5000/myapp1:3.0",
			want: reference.Reference{Registry: "localhost:5000", Repository: "myapp1", Tag: "3.0"},
			str:  "localhost:5000/myapp1:3.0", familiar: "localhost:5000/myapp1:3.0", ref: "3.0"},
		{name: "bare localhost", in: "localhost/x",
			want: reference.Reference{Registry: "localhost", Repository: "x", Tag: "latest"},
			str:  "localhost/x:latest", familiar: "localhost/x:latest"},
		{name: "ipv6 host with port", in: "[::1]:5000/x:y",
			want: reference.Reference{Registry: "[::1]:5000", Repository: "x", Tag: "y"},
			str:  "[::1]:5000/x:y", familiar: "[::1]:5000/x:y"},
		{name: "ipv4 host", in: "127.0.0.1:5000/a/b",
			want: reference.Reference{Registry: "127.0.0.1:5000", Repository: "a/b", Tag: "latest"}},
		{name: "ghcr deep path", in: "ghcr.io/org/team/app:v1.2.3",
			want: reference.Reference{Registry: "ghcr.io", Repository: "org/team/app", Tag: "v1.2.3"}},
		{name: "separators in repository", in: "example.com/a__b/c-d/e.f/g---h",
			want: reference.Reference{Registry: "example.com", Repository: "a__b/c-d/e.f/g---h", Tag: "latest"}},
		{name: "upper-case tag allowed", in: "ghcr.io/a/b:V1_RC",
			want: reference.Reference{Registry: "ghcr.io", Repository: "a/b", Tag: "V1_RC"}},
		{name: "tag of 128 characters", in: "x:" + strings.Repeat("t", 128),
			want: reference.Reference{Registry: "docker.io", Repository: "library/x", Tag: strings.Repeat("t", 128)}},
		{name: "repository of 255 characters", in: "example.com/" + strings.Repeat("a", 255),
			want: reference.Reference{Registry: "example.com", Repository: strings.Repeat("a", 255), Tag: "latest"}},

		// Digests.
		{name: "name and sha256 digest", in: "ubuntu@" + string(sha256),
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu", Digest: sha256},
			str:  "docker.io/library/ubuntu@" + string(sha256), familiar: "ubuntu@" + string(sha256), ref: string(sha256)},
		{name: "name, tag and digest", in: "ghcr.io/a/b:1@" + string(sha256),
			want: reference.Reference{Registry: "ghcr.io", Repository: "a/b", Tag: "1", Digest: sha256},
			str:  "ghcr.io/a/b:1@" + string(sha256), ref: string(sha256)},
		{name: "sha512 digest", in: "localhost:5000/x@" + string(sha512),
			want: reference.Reference{Registry: "localhost:5000", Repository: "x", Digest: sha512},
			ref:  string(sha512)},
		{name: "sha384 digest", in: "x@sha384:" + hex64[:48] + hex64[:48],
			want: reference.Reference{Registry: "docker.io", Repository: "library/x", Digest: digest.Digest("sha384:" + hex64[:48] + hex64[:48])}},

		// Errors: the whole input.
		{name: "empty", in: "", wantErr: reference.ErrEmpty, wantPart: reference.PartWhole},
		{name: "bare image id", in: hex64, wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},
		{name: "bare digest", in: string(sha256), wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},

		// Errors: the registry.
		{name: "underscore in host", in: "my_host:5000/x", wantErr: reference.ErrInvalidRegistry, wantPart: reference.PartRegistry},
		{name: "non-numeric port", in: "host:port/x", wantErr: reference.ErrInvalidRegistry, wantPart: reference.PartRegistry},
		{name: "port without host", in: ":5000/x", wantErr: reference.ErrInvalidRegistry, wantPart: reference.PartRegistry},
		{name: "host ending in dash", in: "bad-.com/x", wantErr: reference.ErrInvalidRegistry, wantPart: reference.PartRegistry},
		// Found by FuzzParse: a dotted first component that is no host name
		// is read by distribution/reference as a path with no registry.
		{name: "underscore in a dotted host", in: "0_0.0/0", wantErr: reference.ErrInvalidRegistry, wantPart: reference.PartRegistry},
		{name: "underscore in a dotted host, with tag", in: "my_host.example/app:1", wantErr: reference.ErrInvalidRegistry, wantPart: reference.PartRegistry},

		// Errors: the repository.
		{name: "upper-case official", in: "Ubuntu", wantErr: reference.ErrUppercase, wantPart: reference.PartRepository},
		{name: "upper-case under host", in: "ghcr.io/Foo/bar", wantErr: reference.ErrUppercase, wantPart: reference.PartRepository},
		{name: "upper-case after upper-case host", in: "Foo/Bar", wantErr: reference.ErrUppercase, wantPart: reference.PartRepository},
		{name: "upper-case with tag", in: "localhost:5000/MyApp:1", wantErr: reference.ErrUppercase, wantPart: reference.PartRepository},
		{name: "name too long", in: "example.com/" + strings.Repeat("a", 256), wantErr: reference.ErrNameTooLong, wantPart: reference.PartRepository},
		{name: "hub name too long with library", in: strings.Repeat("a", 250), wantErr: reference.ErrNameTooLong, wantPart: reference.PartRepository},
		{name: "space", in: "a b", wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},
		{name: "leading slash", in: "/x", wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},
		{name: "double slash", in: "ghcr.io//x", wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},
		{name: "trailing separator", in: "ghcr.io/x-", wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},
		{name: "triple underscore", in: "a___b", wantErr: reference.ErrInvalidRepository, wantPart: reference.PartRepository},
		{name: "no repository before tag", in: ":tag", wantErr: reference.ErrEmpty, wantPart: reference.PartRepository},
		{name: "host only", in: "ghcr.io/", wantErr: reference.ErrEmpty, wantPart: reference.PartRepository},

		// Errors: the tag.
		{name: "illegal tag character", in: "ubuntu:ta$g", wantErr: reference.ErrInvalidTag, wantPart: reference.PartTag},
		{name: "tag starts with dash", in: "ubuntu:-x", wantErr: reference.ErrInvalidTag, wantPart: reference.PartTag},
		{name: "tag starts with dot", in: "ubuntu:.x", wantErr: reference.ErrInvalidTag, wantPart: reference.PartTag},
		{name: "empty tag", in: "ubuntu:", wantErr: reference.ErrEmpty, wantPart: reference.PartTag},
		{name: "tag too long", in: "ubuntu:" + strings.Repeat("a", 129), wantErr: reference.ErrTagTooLong, wantPart: reference.PartTag},
		{name: "very long tag", in: "ubuntu:" + strings.Repeat("a", 1000), wantErr: reference.ErrTagTooLong, wantPart: reference.PartTag},
		{name: "long tag with bad character past 128", in: "ubuntu:" + strings.Repeat("a", 200) + "$", wantErr: reference.ErrInvalidTag, wantPart: reference.PartTag},

		// Errors: the digest.
		{name: "unknown algorithm", in: "ubuntu@md5:" + hex64[:32], wantErr: reference.ErrUnsupportedDigestAlgorithm, wantPart: reference.PartDigest},
		{name: "unknown algorithm, short", in: "ubuntu@md5:abc", wantErr: reference.ErrUnsupportedDigestAlgorithm, wantPart: reference.PartDigest},
		{name: "short sha256", in: "ubuntu@sha256:abc", wantErr: reference.ErrDigestLength, wantPart: reference.PartDigest},
		{name: "long sha256", in: "ubuntu@sha256:" + hex64 + "00", wantErr: reference.ErrDigestLength, wantPart: reference.PartDigest},
		{name: "upper-case hex", in: "ubuntu@sha256:" + strings.ToUpper(hex64), wantErr: reference.ErrInvalidDigest, wantPart: reference.PartDigest},
		{name: "non-hex digits", in: "ubuntu@sha256:" + strings.Repeat("g", 64), wantErr: reference.ErrInvalidDigest, wantPart: reference.PartDigest},
		{name: "empty digest", in: "ubuntu@", wantErr: reference.ErrEmpty, wantPart: reference.PartDigest},
		{name: "digest without algorithm", in: "ubuntu@" + hex64, wantErr: reference.ErrInvalidDigest, wantPart: reference.PartDigest},
		{name: "two digests", in: "x@" + string(sha256) + "@y", wantErr: reference.ErrInvalidDigest, wantPart: reference.PartDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := reference.Parse(tc.in)
			if tc.wantErr != nil {
				checkError(t, "Parse", tc.in, err, tc.wantErr, tc.wantPart)
				if got != (reference.Reference{}) {
					t.Errorf("Parse(%q) = %#v on error, want the zero Reference", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v, want nil", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			checkString(t, "String", got.String(), tc.str)
			checkString(t, "Familiar", got.Familiar(), tc.familiar)
			checkString(t, "Ref", got.Ref(), tc.ref)
			if name := got.Name(); name != got.Registry+"/"+got.Repository {
				t.Errorf("Name() = %q, want %q", name, got.Registry+"/"+got.Repository)
			}
			for _, form := range []string{got.String(), got.Familiar()} {
				back, err := reference.Parse(form)
				if err != nil || back != got {
					t.Errorf("Parse(%q) = %#v, %v, want %#v (round trip of %q)", form, back, err, got, tc.in)
				}
			}
		})
	}
}

// checkError checks that err is an *Error for input that matches want and
// blames part.
func checkError(t *testing.T, fn, input string, err, want error, part reference.Part) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s(%q) error = %v, want %v", fn, input, err, want)
	}
	var re *reference.Error
	if !errors.As(err, &re) {
		t.Fatalf("%s(%q) error = %T, want *reference.Error", fn, input, err)
	}
	if re.Part != part {
		t.Errorf("%s(%q) error part = %v, want %v (error %v)", fn, input, re.Part, part, err)
	}
	if re.Input != input {
		t.Errorf("%s(%q) error input = %q, want %q", fn, input, re.Input, input)
	}
}

func checkString(t *testing.T, method, got, want string) {
	t.Helper()
	if want != "" && got != want {
		t.Errorf("%s() = %q, want %q", method, got, want)
	}
}

func TestParseRepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string              // subtest name
		in       string              // input to ParseRepository
		want     reference.Reference // parsed value; ignored when wantErr is set
		str      string              // want String()
		wantErr  error               // sentinel the error must match; nil means success
		wantPart reference.Part      // part the error must blame
	}{
		{name: "hub user repository", in: "amouat/revealjs",
			want: reference.Reference{Registry: "docker.io", Repository: "amouat/revealjs"}, str: "docker.io/amouat/revealjs"},
		{name: "official", in: "ubuntu",
			want: reference.Reference{Registry: "docker.io", Repository: "library/ubuntu"}, str: "docker.io/library/ubuntu"},
		{name: "own registry", in: "localhost:5000/myapp1",
			want: reference.Reference{Registry: "localhost:5000", Repository: "myapp1"}, str: "localhost:5000/myapp1"},
		{name: "tag not allowed", in: "ubuntu:1", wantErr: reference.ErrInvalidFormat, wantPart: reference.PartTag},
		{name: "digest not allowed", in: "ubuntu@" + string(sha256), wantErr: reference.ErrInvalidFormat, wantPart: reference.PartDigest},
		{name: "bare localhost:port reads as a tag", in: "localhost:5000", wantErr: reference.ErrInvalidFormat, wantPart: reference.PartTag},
		{name: "upper case", in: "Ubuntu", wantErr: reference.ErrUppercase, wantPart: reference.PartRepository},
		{name: "empty", in: "", wantErr: reference.ErrEmpty, wantPart: reference.PartWhole},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := reference.ParseRepository(tc.in)
			if tc.wantErr != nil {
				checkError(t, "ParseRepository", tc.in, err, tc.wantErr, tc.wantPart)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseRepository(%q) = %#v, %v, want %#v", tc.in, got, err, tc.want)
			}
			checkString(t, "String", got.String(), tc.str)
			checkString(t, "Ref", got.Ref(), reference.DefaultTag)
		})
	}
}

func TestMustParse(t *testing.T) {
	t.Parallel()
	if got := reference.MustParse("ubuntu").String(); got != "docker.io/library/ubuntu:latest" {
		t.Errorf("MustParse(%q).String() = %q, want %q", "ubuntu", got, "docker.io/library/ubuntu:latest")
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, reference.ErrUppercase) {
			t.Errorf("MustParse(%q) panicked with %v, want an error matching ErrUppercase", "Ubuntu", r)
		}
	}()
	reference.MustParse("Ubuntu")
}

func TestZeroReference(t *testing.T) {
	t.Parallel()
	var r reference.Reference
	if r.String() != "" || r.Name() != "" || r.Familiar() != "" || r.Ref() != "latest" {
		t.Errorf("zero Reference: String %q, Name %q, Familiar %q, Ref %q; want \"\", \"\", \"\", \"latest\"",
			r.String(), r.Name(), r.Familiar(), r.Ref())
	}
	// A hand-built reference without a registry still formats.
	r = reference.Reference{Repository: "x/y", Tag: "1"}
	if got := r.String(); got != "x/y:1" {
		t.Errorf("Reference{Repository: x/y, Tag: 1}.String() = %q, want %q", got, "x/y:1")
	}
}

func TestReferenceAsMapKey(t *testing.T) {
	t.Parallel()
	seen := map[reference.Reference]int{}
	for _, s := range []string{"ubuntu", "docker.io/library/ubuntu:latest", "index.docker.io/ubuntu", "library/ubuntu:latest"} {
		seen[reference.MustParse(s)]++
	}
	if len(seen) != 1 {
		t.Errorf("four spellings of ubuntu:latest gave %d distinct keys, want 1: %v", len(seen), seen)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string // subtest name
		in   string // input to Parse
		want string // want err.Error()
	}{
		{name: "upper case", in: "Foo", want: `invalid reference "Foo": repository: must be lower case`},
		{name: "empty", in: "", want: `invalid reference "": empty`},
		{name: "digest length", in: "ubuntu@sha256:abc", want: `invalid reference "ubuntu@sha256:abc": digest: sha256 takes 64 hex digits, got 3`},
		{name: "algorithm", in: "x@md5:abc", want: `invalid reference "x@md5:abc": digest: unsupported digest algorithm "md5" (want sha256, sha384 or sha512)`},
		{name: "tag too long", in: "x:" + strings.Repeat("a", 130), want: `invalid reference "x:` + strings.Repeat("a", 130) + `": tag: must be at most 128 characters, got 130`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := reference.Parse(tc.in)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Parse(%q) error = %v, want %s", tc.in, err, tc.want)
			}
		})
	}
}
