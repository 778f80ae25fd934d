package pull

import (
	"errors"
	"fmt"
	"testing"

	"github.com/regkit/regkit/transport"
)

func TestManifestNotFound(t *testing.T) {
	other := errors.New("connection refused")
	for _, tc := range []struct {
		name    string
		in      error
		match   []error
		nomatch []error
	}{
		{"name unknown", fmt.Errorf("get: %w", transport.Errorf(transport.CodeNameUnknown, "repository %q not found", "x")),
			[]error{transport.ErrManifestUnknown, transport.ErrNameUnknown, transport.ErrNotFound}, nil},
		{"manifest unknown", transport.ErrManifestUnknown,
			[]error{transport.ErrManifestUnknown, transport.ErrNotFound}, []error{transport.ErrNameUnknown}},
		{"unauthorized", transport.ErrUnauthorized,
			[]error{transport.ErrUnauthorized}, []error{transport.ErrManifestUnknown, transport.ErrNotFound}},
		{"other", other, []error{other}, []error{transport.ErrManifestUnknown}},
	} {
		got := ManifestNotFound(tc.in)
		for _, w := range tc.match {
			if !errors.Is(got, w) {
				t.Errorf("%s: ManifestNotFound(%v) = %v, does not match %v", tc.name, tc.in, got, w)
			}
		}
		for _, w := range tc.nomatch {
			if errors.Is(got, w) {
				t.Errorf("%s: ManifestNotFound(%v) = %v, matches %v", tc.name, tc.in, got, w)
			}
		}
	}
	if ManifestNotFound(nil) != nil {
		t.Error("ManifestNotFound(nil) != nil")
	}
}
