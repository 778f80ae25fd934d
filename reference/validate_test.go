package reference_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/reference"
)

func TestValidateRepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string // subtest name
		in      string // input to ValidateRepository
		wantErr error  // sentinel the error must match; nil means valid
	}{
		{name: "library path", in: "library/ubuntu"},
		{name: "one component", in: "myapp1"},
		{name: "host-like first component is just a path", in: "example.com/x"},
		{name: "255 characters", in: strings.Repeat("a", 255)},
		{name: "empty", in: "", wantErr: reference.ErrEmpty},
		{name: "upper case", in: "Foo", wantErr: reference.ErrUppercase},
		{name: "upper case in second component", in: "foo/Bar", wantErr: reference.ErrUppercase},
		{name: "upper case and too long", in: strings.Repeat("A", 300), wantErr: reference.ErrUppercase},
		{name: "too long", in: strings.Repeat("a", 256), wantErr: reference.ErrNameTooLong},
		{name: "port is not a path", in: "localhost:5000/x", wantErr: reference.ErrInvalidRepository},
		{name: "tag is not a path", in: "x:1", wantErr: reference.ErrInvalidRepository},
		{name: "bad character", in: "a$b", wantErr: reference.ErrInvalidRepository},
		{name: "upper case and bad character", in: "A$b", wantErr: reference.ErrInvalidRepository},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := reference.ValidateRepository(tc.in)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateRepository(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			checkError(t, "ValidateRepository", tc.in, err, tc.wantErr, reference.PartRepository)
			if !errors.Is(err, reference.ErrInvalidRepository) {
				t.Errorf("ValidateRepository(%q) = %v, want it to match ErrInvalidRepository too", tc.in, err)
			}
		})
	}
}

func TestValidateRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string // subtest name
		in      string // input to ValidateRegistry
		wantErr error  // sentinel the error must match; nil means valid
	}{
		{name: "host", in: "ghcr.io"},
		{name: "host and port", in: "localhost:5000"},
		{name: "ipv6", in: "[::1]:5000"},
		{name: "upper case host", in: "Example.COM"},
		{name: "empty", in: "", wantErr: reference.ErrEmpty},
		{name: "underscore", in: "my_host", wantErr: reference.ErrInvalidRegistry},
		{name: "bad port", in: "host:http", wantErr: reference.ErrInvalidRegistry},
		{name: "path", in: "ghcr.io/x", wantErr: reference.ErrInvalidRegistry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := reference.ValidateRegistry(tc.in)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateRegistry(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			checkError(t, "ValidateRegistry", tc.in, err, tc.wantErr, reference.PartRegistry)
		})
	}
}

func TestValidateTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string // subtest name
		in      string // input to ValidateTag
		wantErr error  // sentinel the error must match; nil means valid
	}{
		{name: "version", in: "1.0"},
		{name: "mixed case and underscore", in: "_Build-2.x"},
		{name: "128 characters", in: strings.Repeat("a", 128)},
		{name: "empty", in: "", wantErr: reference.ErrEmpty},
		{name: "dollar", in: "ta$g", wantErr: reference.ErrInvalidTag},
		{name: "leading dash", in: "-x", wantErr: reference.ErrInvalidTag},
		{name: "slash", in: "a/b", wantErr: reference.ErrInvalidTag},
		{name: "non-ascii", in: "tàg", wantErr: reference.ErrInvalidTag},
		{name: "129 characters", in: strings.Repeat("a", 129), wantErr: reference.ErrTagTooLong},
		{name: "300 characters with dots and dashes", in: strings.Repeat("a.-", 100), wantErr: reference.ErrTagTooLong},
		{name: "too long and leading dash", in: "-" + strings.Repeat("a", 200), wantErr: reference.ErrInvalidTag},
		{name: "too long, bad character at the end", in: strings.Repeat("a", 300) + "!", wantErr: reference.ErrInvalidTag},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := reference.ValidateTag(tc.in)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateTag(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			checkError(t, "ValidateTag", tc.in, err, tc.wantErr, reference.PartTag)
			if !errors.Is(err, reference.ErrInvalidTag) {
				t.Errorf("ValidateTag(%q) = %v, want it to match ErrInvalidTag too", tc.in, err)
			}
			if tc.wantErr != reference.ErrTagTooLong && errors.Is(err, reference.ErrTagTooLong) {
				t.Errorf("ValidateTag(%q) = %v, should not match ErrTagTooLong", tc.in, err)
			}
		})
	}
}

func TestValidateDigest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string        // subtest name
		in      string        // input to ValidateDigest
		want    digest.Digest // want result when valid
		wantErr error         // sentinel the error must match; nil means valid
	}{
		{name: "sha256", in: string(sha256), want: sha256},
		{name: "sha512", in: string(sha512), want: sha512},
		{name: "empty", in: "", wantErr: reference.ErrEmpty},
		{name: "md5", in: "md5:" + hex64[:32], wantErr: reference.ErrUnsupportedDigestAlgorithm},
		{name: "short", in: "sha256:abc", wantErr: reference.ErrDigestLength},
		{name: "sha512 with sha256 length", in: "sha512:" + hex64, wantErr: reference.ErrDigestLength},
		{name: "upper-case hex", in: "sha256:" + strings.ToUpper(hex64), wantErr: reference.ErrInvalidDigest},
		{name: "no colon", in: hex64, wantErr: reference.ErrInvalidDigest},
		{name: "no encoded part", in: "sha256:", wantErr: reference.ErrInvalidDigest},
		{name: "bad algorithm syntax", in: "SHA-256!:" + hex64, wantErr: reference.ErrInvalidDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := reference.ValidateDigest(tc.in)
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("ValidateDigest(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
				}
				return
			}
			checkError(t, "ValidateDigest", tc.in, err, tc.wantErr, reference.PartDigest)
			if !errors.Is(err, reference.ErrInvalidDigest) {
				t.Errorf("ValidateDigest(%q) = %v, want it to match ErrInvalidDigest too", tc.in, err)
			}
			if got != "" {
				t.Errorf("ValidateDigest(%q) = %q on error, want \"\"", tc.in, got)
			}
		})
	}
}

func TestSHA512Available(t *testing.T) {
	t.Parallel()
	for _, a := range []digest.Algorithm{digest.SHA256, digest.SHA384, digest.SHA512} {
		if !a.Available() {
			t.Errorf("%s.Available() = false, want true", a)
		}
	}
}

func TestWithTag(t *testing.T) {
	t.Parallel()
	r := reference.MustParse("ghcr.io/a/b:1@" + string(sha256))
	got, err := r.WithTag("2.0")
	want := reference.Reference{Registry: "ghcr.io", Repository: "a/b", Tag: "2.0"}
	if err != nil || got != want {
		t.Errorf("WithTag(%q) = %#v, %v, want %#v (digest cleared)", "2.0", got, err, want)
	}
	if r.Tag != "1" || r.Digest != sha256 {
		t.Errorf("WithTag changed its receiver to %#v", r)
	}
	got, err = r.WithTag("bad tag")
	checkError(t, "WithTag", "bad tag", err, reference.ErrInvalidTag, reference.PartTag)
	if got != (reference.Reference{}) {
		t.Errorf("WithTag(%q) = %#v on error, want zero", "bad tag", got)
	}
	_, err = r.WithTag(strings.Repeat("x", 129))
	if !errors.Is(err, reference.ErrTagTooLong) {
		t.Errorf("WithTag(129 x) error = %v, want ErrTagTooLong", err)
	}
}

func TestWithDigest(t *testing.T) {
	t.Parallel()
	r := reference.MustParse("localhost:5000/myapp1:3.0")
	got, err := r.WithDigest(sha512)
	want := reference.Reference{Registry: "localhost:5000", Repository: "myapp1", Tag: "3.0", Digest: sha512}
	if err != nil || got != want {
		t.Fatalf("WithDigest(%q) = %#v, %v, want %#v (tag kept)", sha512, got, err, want)
	}
	if got.Ref() != string(sha512) {
		t.Errorf("Ref() = %q, want the digest %q", got.Ref(), sha512)
	}
	if back, err := reference.Parse(got.String()); err != nil || back != got {
		t.Errorf("Parse(%q) = %#v, %v, want %#v", got.String(), back, err, got)
	}
	for _, tc := range []struct {
		in   digest.Digest // input to WithDigest
		want error         // sentinel the error must match
	}{
		{in: "sha256:abc", want: reference.ErrDigestLength},
		{in: "md5:" + digest.Digest(hex64[:32]), want: reference.ErrUnsupportedDigestAlgorithm},
		{in: "", want: reference.ErrEmpty},
	} {
		got, err := r.WithDigest(tc.in)
		checkError(t, "WithDigest", string(tc.in), err, tc.want, reference.PartDigest)
		if got != (reference.Reference{}) {
			t.Errorf("WithDigest(%q) = %#v on error, want zero", tc.in, got)
		}
	}
}

func TestPartString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		part reference.Part // the part
		want string         // want String()
	}{
		{reference.PartWhole, "reference"},
		{reference.PartRegistry, "registry"},
		{reference.PartRepository, "repository"},
		{reference.PartTag, "tag"},
		{reference.PartDigest, "digest"},
		{reference.Part(42), "Part(42)"},
	}
	for _, tc := range tests {
		if got := tc.part.String(); got != tc.want {
			t.Errorf("Part(%d).String() = %q, want %q", int(tc.part), got, tc.want)
		}
	}
}

func TestErrorIsByPart(t *testing.T) {
	t.Parallel()
	e := &reference.Error{Input: "x", Part: reference.PartRegistry, Err: reference.ErrEmpty}
	if !errors.Is(e, reference.ErrInvalidRegistry) || !errors.Is(e, reference.ErrEmpty) {
		t.Errorf("errors.Is(%v, ErrInvalidRegistry / ErrEmpty) = false, want true", e)
	}
	if errors.Is(e, reference.ErrInvalidTag) || errors.Is(e, reference.ErrInvalidFormat) {
		t.Errorf("errors.Is(%v, ErrInvalidTag / ErrInvalidFormat) = true, want false", e)
	}
	whole := &reference.Error{Input: "x"}
	if got, want := whole.Error(), `invalid reference "x": invalid format`; got != want {
		t.Errorf("Error{Input: x}.Error() = %q, want %q", got, want)
	}
	if errors.Is(whole, reference.ErrInvalidRepository) {
		t.Errorf("errors.Is(whole-input error, ErrInvalidRepository) = true, want false")
	}
}

// TestPartAloneMessage checks the message of the Validate functions and the
// With methods, which are given one part: it names the part and the input
// once, and does not call the part a reference.
func TestPartAloneMessage(t *testing.T) {
	t.Parallel()
	_, digestErr := reference.ValidateDigest("sha256:abc")
	_, withTagErr := reference.MustParse("ubuntu").WithTag("-x")
	tests := []struct {
		err  error
		want string
	}{
		{reference.ValidateRepository("Foo"), `repository "Foo": must be lower case`},
		{reference.ValidateTag("-x"), `tag "-x": must be 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`},
		{reference.ValidateRegistry(""), `registry "": empty`},
		{digestErr, `digest "sha256:abc": sha256 takes 64 hex digits, got 3`},
		{withTagErr, `tag "-x": must be 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`},
	}
	for _, tc := range tests {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("error = %v, want %s", tc.err, tc.want)
		}
	}
}
