package tag

import "strings"

// IsReferrersFallback reports whether name is a tag of the referrers tag
// schema of the OCI distribution spec: "sha256-" or "sha512-" followed by
// 64 lowercase hex digits (the first 64 of a sha512 digest, as the spec
// cuts them). Clients keep there the list of referrers (signatures,
// SBOMs, attestations) of the manifest of that digest, on registries
// without the referrers API (GitHub's, for one), so these tags show up in
// [github.com/regkit/regkit/repository.Repository.Tags] beside the tags
// people push. They name no image of their own: skip them when listing
// versions, as regkit.Mirror does; their referrers come along with the
// image they refer to.
func IsReferrersFallback(name string) bool {
	alg, hex, ok := strings.Cut(name, "-")
	if !ok || (alg != "sha256" && alg != "sha512") || len(hex) != 64 {
		return false
	}
	for _, c := range []byte(hex) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
