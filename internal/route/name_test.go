package route

import (
	"errors"
	"testing"

	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/transport"
)

// TestParseNameIsSpecChecked checks that Parse judges a repository name
// with spec.CheckName, the check every side of regkit shares: its error
// matches transport.ErrNameInvalid and the reference error it wraps, and
// the server answers with it as it is.
func TestParseNameIsSpecChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/v2/MyApp/tags/list", reference.ErrUppercase},
		{"/v2/a/../b/manifests/v1", reference.ErrInvalidRepository},
		{"/v2/demo:5000/blobs/uploads/", reference.ErrInvalidRepository},
	} {
		_, err := Parse(tc.path)
		if !errors.Is(err, transport.ErrNameInvalid) || !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) = %v, want transport.ErrNameInvalid and %v", tc.path, err, tc.want)
		}
	}
}
