package tag_test

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/tag"
)

func TestIsReferrersFallback(t *testing.T) {
	t.Parallel()
	d256 := digest.FromString("subject")
	d512 := digest.SHA512.FromString("subject")
	hex := d256.Encoded()
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"sha256-" + hex, true},
		{"sha512-" + d512.Encoded()[:64], true}, // the spec cuts the hex to 64
		{"sha512-" + d512.Encoded(), false},     // 135 characters: no valid tag
		{"sha256-" + hex[:63], false},
		{"sha256-" + hex + "0", false},
		{"sha256-" + strings.ToUpper(hex), false},
		{"sha256-" + hex[:63] + "g", false},
		{"sha384-" + hex, false},
		{"sha256_" + hex, false},
		{"sha256" + hex, false},
		{"latest", false},
		{"1.2.3", false},
		{"", false},
	} {
		require.Equal(t, tc.want, tag.IsReferrersFallback(tc.name), "%q", tc.name)
	}
}
