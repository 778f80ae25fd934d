package image

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them; match
// with [errors.Is].
var (
	// ErrInvalid reports a document that breaks the rules of its media type:
	// bytes that are not JSON, a wrong schemaVersion, a descriptor with an
	// invalid digest or a negative size, bytes that do not match their digest.
	ErrInvalid = errors.New("invalid manifest")

	// ErrUnsupportedMediaType reports a media type this package does not
	// decode for the requested purpose, such as Docker schema1, or an index
	// given where an image manifest is expected.
	ErrUnsupportedMediaType = errors.New("unsupported media type")

	// ErrNoPlatform reports that an index has no manifest for the wanted
	// platform. The error is a [*PlatformError] that lists what the index has.
	ErrNoPlatform = errors.New("no matching platform")

	// ErrInvalidPlatform reports a platform string that [ParsePlatform]
	// cannot read.
	ErrInvalidPlatform = errors.New("invalid platform")
)
