package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

var (
	sha256D = digest.Digest("sha256:" + strings.Repeat("a", 64))
	sha512D = digest.Digest("sha512:" + strings.Repeat("b", 128))
)

// TestParseRef pins the one "tag or digest?" decision of regkit, which the
// client, the server, the backends, the model and Copy all make here. The
// cases include those the five old copies decided alike but said
// differently (the input once, in the reference package's words, now).
func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ref     string
		tag     string
		d       digest.Digest
		wantErr error // a transport sentinel; nil for success
		cause   error // a reference sentinel the error also matches
	}{
		{name: "tag", ref: "v1.0_rc-1", tag: "v1.0_rc-1"},
		{name: "upper-case tag", ref: "Latest", tag: "Latest"},
		{name: "tag of 128", ref: strings.Repeat("t", 128), tag: strings.Repeat("t", 128)},
		{name: "sha256 digest", ref: string(sha256D), d: sha256D},
		{name: "sha512 digest", ref: string(sha512D), d: sha512D},
		{name: "empty", ref: "", wantErr: transport.ErrTagInvalid},
		{name: "leading dot", ref: ".hidden", wantErr: transport.ErrTagInvalid},
		{name: "leading dash", ref: "-bad", wantErr: transport.ErrTagInvalid},
		{name: "tag of 129", ref: strings.Repeat("t", 129), wantErr: transport.ErrTagInvalid},
		{name: "space", ref: "bad tag", wantErr: transport.ErrTagInvalid},
		{name: "at sign without colon", ref: "v1@x", wantErr: transport.ErrTagInvalid},
		{name: "a colon makes a digest", ref: "v1:2", wantErr: transport.ErrDigestInvalid},
		{name: "short digest", ref: "sha256:abc", wantErr: transport.ErrDigestInvalid},
		{name: "upper-case hex", ref: "sha256:" + strings.Repeat("A", 64), wantErr: transport.ErrDigestInvalid},
		{name: "unknown algorithm", ref: "md5:d41d8cd98f00b204e9800998ecf8427e", wantErr: transport.ErrDigestInvalid},
		{name: "tag and digest", ref: "v1@" + string(sha256D), wantErr: transport.ErrDigestInvalid},
		{name: "path traversal", ref: "sha256:../../etc/passwd", wantErr: transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tag, d, err := ParseRef(tc.ref)
			if tag != tc.tag || d != tc.d || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("ParseRef(%q) = %q, %q, %v; want %q, %q, %v", tc.ref, tag, d, err, tc.tag, tc.d, tc.wantErr)
			}
			if err := CheckRef(tc.ref); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("CheckRef(%q) = %v, want %v", tc.ref, err, tc.wantErr)
			}
			if got, want := IsDigest(tc.ref), tc.d != "" || errors.Is(tc.wantErr, transport.ErrDigestInvalid); got != want {
				t.Errorf("IsDigest(%q) = %v, want %v", tc.ref, got, want)
			}
			if err != nil && strings.Count(err.Error(), tc.ref) > 1 && tc.ref != "" {
				t.Errorf("ParseRef(%q) error %q names the input more than once", tc.ref, err)
			}
		})
	}
}

func TestCheckTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag     string
		wantErr error
	}{
		{"latest", nil},
		{"_x", nil},
		{"", transport.ErrTagInvalid},
		{string(sha256D), transport.ErrTagInvalid}, // a digest is not a tag
		{strings.Repeat("a", 129), transport.ErrTagInvalid},
	}
	for _, tc := range tests {
		if err := CheckTag(tc.tag); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("CheckTag(%q) = %v, want %v", tc.tag, err, tc.wantErr)
		}
	}
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr error
	}{
		{"alpine", nil},
		{"a/b-c/d_e.f", nil},
		{"a/b__c/d--e", nil},
		{"x/blobs/index.json", nil}, // layout entry names are fine here
		{strings.Repeat("a", 255), nil},
		{"", transport.ErrNameInvalid},
		{"Alpine", transport.ErrNameInvalid},
		{"a/../b", transport.ErrNameInvalid},
		{"/a", transport.ErrNameInvalid},
		{"a//b", transport.ErrNameInvalid},
		{"a/", transport.ErrNameInvalid},
		{"localhost:5000/a", transport.ErrNameInvalid},
		{strings.Repeat("a", 256), transport.ErrNameInvalid},
	}
	for _, tc := range tests {
		if err := CheckName(tc.name); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("CheckName(%q) = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestCheckDigest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    digest.Digest
		wantErr error
	}{
		{string(sha256D), sha256D, nil},
		{string(sha512D), sha512D, nil},
		{"sha384:" + strings.Repeat("c", 96), digest.Digest("sha384:" + strings.Repeat("c", 96)), nil},
		{"", "", transport.ErrDigestInvalid},
		{"latest", "", transport.ErrDigestInvalid},
		{"sha256:" + strings.Repeat("A", 64), "", transport.ErrDigestInvalid},
		{"sha256:abc", "", transport.ErrDigestInvalid},
		{"md5:" + strings.Repeat("a", 32), "", transport.ErrDigestInvalid},
		{"sha256:../../etc/passwd", "", transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		got, err := CheckDigest(tc.in)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("CheckDigest(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestErrorsAreTransportErrors checks that every error of the package is a
// *transport.Error, which the server answers with its code's status.
func TestErrorsAreTransportErrors(t *testing.T) {
	t.Parallel()
	_, derr := CheckDigest("x")
	_, merr := ParseManifest("", []byte("x"))
	for _, err := range []error{CheckName("A"), CheckTag("-"), derr, merr} {
		var te *transport.Error
		if !errors.As(err, &te) || te.Code == "" {
			t.Errorf("%v is not a *transport.Error with a code", err)
		}
	}
}

// TestCheckPageRequest pins the one page-size check the client and the
// in-process backends share.
func TestCheckPageRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		req  transport.PageRequest
		want error
	}{
		{transport.PageRequest{}, nil},
		{transport.PageRequest{N: 5, Last: "x"}, nil},
		{transport.PageRequest{N: -1}, transport.ErrSizeInvalid},
	} {
		if err := CheckPageRequest(tc.req); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckPageRequest(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
}

func TestCheckTags(t *testing.T) {
	t.Parallel()
	many := make([]string, transport.MaxPutTags+1)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		err  bool
	}{
		{name: "none"},
		{name: "repeats, first order kept", in: []string{"b", "a", "b", "a", "c"}, want: []string{"b", "a", "c"}},
		{name: "invalid", in: []string{"ok", "not/a/tag"}, err: true},
		{name: "too many", in: many, err: true},
	} {
		got, err := CheckTags(tc.in)
		if tc.err {
			if !errors.Is(err, transport.ErrTagInvalid) {
				t.Errorf("%s: CheckTags = %v, %v; want TAG_INVALID", tc.name, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: CheckTags = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
