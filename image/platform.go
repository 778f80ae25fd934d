package image

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParsePlatform reads a platform in the form os/arch or os/arch/variant, as
// in "linux/arm64", "linux/arm/v7" or "windows/amd64". The OS may carry a
// version in parentheses, "windows(10.0.17763)/amd64". The parts are
// lowercased but not otherwise normalised ([MatchPlatform] does that).
// Empty input or another shape gives an error wrapping [ErrInvalidPlatform].
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "/")
	if len(parts) < 2 || len(parts) > 3 {
		return ocispec.Platform{}, fmt.Errorf("%w: %q: want os/arch or os/arch/variant", ErrInvalidPlatform, s)
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t") {
			return ocispec.Platform{}, fmt.Errorf("%w: %q: empty or blank part", ErrInvalidPlatform, s)
		}
	}
	var p ocispec.Platform
	p.OS, p.Architecture = parts[0], parts[1]
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if os, version, ok := strings.Cut(p.OS, "("); ok {
		version, closed := strings.CutSuffix(version, ")")
		if !closed || os == "" || version == "" || strings.ContainsAny(version, "()") {
			return ocispec.Platform{}, fmt.Errorf("%w: %q: want os(version)", ErrInvalidPlatform, s)
		}
		p.OS, p.OSVersion = os, version
	} else if strings.Contains(p.OS, ")") {
		return ocispec.Platform{}, fmt.Errorf("%w: %q: unbalanced parenthesis", ErrInvalidPlatform, s)
	}
	return p, nil
}

// FormatPlatform formats p the way [ParsePlatform] reads it: "linux/amd64",
// "linux/arm/v7", and "windows(10.0.17763)/amd64" when OSVersion is set.
// An empty OS or architecture is written "unknown"; OSFeatures are left out.
func FormatPlatform(p ocispec.Platform) string {
	var b strings.Builder
	b.WriteString(orUnknown(p.OS))
	if p.OSVersion != "" {
		b.WriteString("(" + p.OSVersion + ")")
	}
	b.WriteString("/" + orUnknown(p.Architecture))
	if p.Variant != "" {
		b.WriteString("/" + p.Variant)
	}
	return b.String()
}

// orUnknown returns s, or "unknown" when s is empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// MatchPlatform reports whether an image built for have suits want. Both
// are normalised first, as containerd does: OS and architecture compare
// case-insensitively; the aliases x86_64 (amd64), aarch64 (arm64), i386
// (386), armhf (arm/v7) and armel (arm/v6) are understood; arm64 without a
// variant is arm64/v8, arm without one is arm/v7, and amd64/v1 is amd64;
// a variant written "armv7" or "7" is "v7". Variants must then be equal.
// OSVersion is compared only when want sets it: have's must equal it or
// extend it ("10.0.17763" matches "10.0.17763.2928"). OSFeatures are
// ignored.
func MatchPlatform(want, have ocispec.Platform) bool {
	if normalise(want) != normalise(have) {
		return false
	}
	if want.OSVersion == "" || want.OSVersion == have.OSVersion {
		return true
	}
	return strings.HasPrefix(have.OSVersion, want.OSVersion+".")
}

// platformKey is a normalised os/arch/variant triple.
type platformKey struct{ os, arch, variant string }

// normalise maps p onto its canonical os, architecture and variant.
func normalise(p ocispec.Platform) platformKey {
	k := platformKey{
		os:      strings.ToLower(p.OS),
		arch:    strings.ToLower(p.Architecture),
		variant: strings.ToLower(p.Variant),
	}
	if k.os == "macos" {
		k.os = "darwin"
	}
	if v, ok := strings.CutPrefix(k.variant, "arm"); ok {
		k.variant = v
	}
	if k.variant != "" && k.variant[0] >= '0' && k.variant[0] <= '9' {
		k.variant = "v" + k.variant
	}
	switch k.arch {
	case "x86_64", "x86-64", "amd64":
		k.arch = "amd64"
		if k.variant == "v1" {
			k.variant = ""
		}
	case "i386", "i486", "i586", "i686", "386":
		k.arch = "386"
	case "aarch64", "arm64":
		k.arch = "arm64"
		if k.variant == "" || k.variant == "v8.0" {
			k.variant = "v8"
		}
	case "armhf":
		k.arch, k.variant = "arm", "v7"
	case "armel":
		k.arch, k.variant = "arm", "v6"
	case "arm":
		if k.variant == "" {
			k.variant = "v7"
		}
	}
	return k
}

// PlatformError reports that an index has no manifest for a platform. It
// matches [ErrNoPlatform] with [errors.Is].
type PlatformError struct {
	// Want is the platform asked for.
	Want ocispec.Platform
	// Have lists the platforms of the index's images, in index order,
	// leaving out entries with no platform and attestations.
	Have []ocispec.Platform
}

// Error says what was wanted and what the index has, as in
// "no manifest for linux/s390x; the index has linux/amd64, linux/arm64/v8".
func (e *PlatformError) Error() string {
	if len(e.Have) == 0 {
		return "no manifest for " + FormatPlatform(e.Want) + "; the index has no platforms"
	}
	have := make([]string, len(e.Have))
	for i, p := range e.Have {
		have[i] = FormatPlatform(p)
	}
	return "no manifest for " + FormatPlatform(e.Want) + "; the index has " + strings.Join(have, ", ")
}

// Is reports whether target is [ErrNoPlatform].
func (e *PlatformError) Is(target error) bool { return target == ErrNoPlatform }

// SelectPlatform returns the first descriptor of idx whose platform
// matches want by [MatchPlatform]. Descriptors without a platform are
// skipped, and so are attestations (platform unknown/unknown, or the
// annotation vnd.docker.reference.type=attestation-manifest). When none
// matches, the error is a [*PlatformError] wrapping [ErrNoPlatform].
func SelectPlatform(idx ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, error) {
	var have []ocispec.Platform
	for _, d := range idx.Manifests {
		if d.Platform == nil || isAttestation(d) {
			continue
		}
		if MatchPlatform(want, *d.Platform) {
			return d, nil
		}
		have = append(have, *d.Platform)
	}
	return ocispec.Descriptor{}, &PlatformError{Want: want, Have: have}
}

// isAttestation reports whether d is a BuildKit attestation manifest
// rather than an image.
func isAttestation(d ocispec.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}
