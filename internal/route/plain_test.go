package route

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// parseBySplit is Parse as it was first written, splitting the path into
// its segments and joining the name's: the model Parse, which cuts the
// endpoint off the end of the path instead, must agree with.
func parseBySplit(escaped string) (Target, error) {
	if escaped == "/v2" || escaped == "/v2/" {
		return Target{Kind: Base}, nil
	}
	rest, ok := strings.CutPrefix(escaped, "/v2/")
	if !ok {
		return Target{}, ErrNoEndpoint
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil || strings.Contains(u, "/") {
			return Target{}, transport.ErrNameInvalid
		}
		segs[i] = u
	}
	k := len(segs)
	var t Target
	switch {
	case k == 1 && segs[0] == "_catalog":
		return Target{Kind: Catalog}, nil
	case k < 3:
		return Target{}, ErrNoEndpoint
	case segs[k-2] == "tags" && segs[k-1] == "list":
		t = Target{Kind: Tags}
	case segs[k-2] == "manifests":
		t = Target{Kind: Manifest, Ref: segs[k-1]}
	case segs[k-2] == "referrers":
		t = Target{Kind: Referrers, Ref: segs[k-1]}
	case segs[k-2] == "blobs" && segs[k-1] == "uploads":
		t = Target{Kind: UploadStart}
	case segs[k-2] == "blobs":
		t = Target{Kind: Blob, Ref: segs[k-1]}
	case k >= 4 && segs[k-3] == "blobs" && segs[k-2] == "uploads":
		t = Target{Kind: Upload, Ref: segs[k-1]}
		if segs[k-1] == "" {
			t = Target{Kind: UploadStart}
		}
		k--
	default:
		return Target{}, ErrNoEndpoint
	}
	t.Name = strings.Join(segs[:k-2], "/")
	if err := spec.CheckName(t.Name); err != nil {
		return Target{}, transport.ErrNameInvalid
	}
	return t, nil
}

// parseCases are paths of every endpoint, with and without escapes, and
// paths that name none.
var parseCases = []string{
	"/v2/", "/v2", "/v2/_catalog", "/v2/%5Fcatalog", "/v2/_catalog/x", "/v2/x/_catalog",
	"/v2/a/tags/list", "/v2/a/b/tags/list", "/v2/a/tags/lists", "/v2/tags/list", "/v2/a/%74ags/list",
	"/v2/a/manifests/v1", "/v2/manifests/manifests/x", "/v2/a/manifests/", "/v2/a/manifests",
	"/v2/a/referrers/sha256:abc", "/v2/a/blobs/sha256:abc", "/v2/a/blobs/uploads", "/v2/a/blobs/uploads/",
	"/v2/a/blobs/uploads/id", "/v2/blobs/uploads/id", "/v2/a/b/blobs/uploads/id", "/v2/a/x/uploads/id",
	"/v2/a/%62lobs/%75ploads/id", "/v2/a%2Fb/tags/list", "/v2/a/manifests/v1%2fx", "/v2/a%zz/tags/list",
	"/v2/A/tags/list", "/v2/a//tags/list", "/v2//tags/list", "/v2/a/../tags/list", "/v2/a/", "/v2/a", "/", "/token",
}

// TestParseAgreesWithSplit checks Parse against parseBySplit on every
// case.
func TestParseAgreesWithSplit(t *testing.T) {
	t.Parallel()
	for _, path := range parseCases {
		checkAgrees(t, path)
	}
}

// TestParsePlainAllocates checks that a path without escapes is parsed
// with no allocation: every request to the fake is parsed so.
func TestParsePlainAllocates(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = Parse("/v2/library/app/tags/list") }); n != 0 {
		t.Errorf("Parse of a path without escapes allocates %v times, want 0", n)
	}
}

func checkAgrees(t *testing.T, path string) {
	t.Helper()
	got, err := Parse(path)
	want, wantErr := parseBySplit(path)
	if got != want || (err == nil) != (wantErr == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
		t.Errorf("Parse(%q) = %+v, %v; the split parse gives %+v, %v", path, got, err, want, wantErr)
	}
}

func FuzzParseAgreesWithSplit(f *testing.F) {
	for _, s := range parseCases {
		f.Add(s)
	}
	f.Fuzz(checkAgrees)
}
