package route

import (
	"errors"
	"testing"

	"github.com/regkit/regkit/transport"
)

// TestParseNameIsSpecChecked checks that Parse judges a repository name
// with spec.CheckName, the check every side of regkit shares: its error
// matches both ErrNameInvalid and transport.ErrNameInvalid, and the server
// answers with it as it is.
func TestParseNameIsSpecChecked(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/v2/MyApp/tags/list", "/v2/a/../b/manifests/v1", "/v2/demo:5000/blobs/uploads/"} {
		_, err := Parse(path)
		if !errors.Is(err, ErrNameInvalid) || !errors.Is(err, transport.ErrNameInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrNameInvalid and transport.ErrNameInvalid", path, err)
		}
	}
}
