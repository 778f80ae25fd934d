package reference

import (
	"errors"
	"fmt"

	distref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// Sentinel errors. Every error this package returns is an [*Error] that
// wraps one of them, so callers match with [errors.Is]:
//
//	if errors.Is(err, reference.ErrUppercase) { … }
//
// An [*Error] also matches the "invalid" sentinel of the part it names
// ([ErrInvalidRegistry], [ErrInvalidRepository], [ErrInvalidTag] or
// [ErrInvalidDigest]), so errors.Is(err, ErrInvalidTag) holds for a tag that
// is too long as well as for one with an illegal character.
var (
	// ErrEmpty means the input, or the part named by the error, is empty.
	ErrEmpty = errors.New("empty")

	// ErrInvalidFormat means the input is not a reference in a way that no
	// single part can be blamed for, or that a part was given where none is
	// allowed (a tag or digest given to [ParseRepository]).
	ErrInvalidFormat = errors.New("invalid format")

	// ErrInvalidRegistry means the registry part is not a host name or IP
	// address with an optional numeric port.
	ErrInvalidRegistry = errors.New("must be a host name or IP address, with an optional port")

	// ErrInvalidRepository means the repository path breaks the grammar:
	// slash-separated components of lower-case letters and digits, joined
	// within a component by '.', '_', '__' or dashes.
	ErrInvalidRepository = errors.New("must be slash-separated components of lower-case letters and digits, joined by '.', '_', '__' or '-'")

	// ErrUppercase means the repository path contains upper-case letters,
	// and would be valid in lower case.
	ErrUppercase = errors.New("must be lower case")

	// ErrNameTooLong means the repository path is longer than 255 characters.
	ErrNameTooLong = fmt.Errorf("must be at most %d characters", distref.RepositoryNameTotalLengthMax)

	// ErrInvalidTag means the tag has an illegal character: a tag is 1 to 128
	// of A-Z, a-z, 0-9, '_', '.' and '-', and does not start with '.' or '-'.
	ErrInvalidTag = errors.New("must be 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -")

	// ErrTagTooLong means the tag is made of legal characters but is longer
	// than 128 characters.
	ErrTagTooLong = fmt.Errorf("must be at most %d characters", maxTagLength)

	// ErrInvalidDigest means the digest is not algorithm:encoded with a
	// lower-case hex encoding.
	ErrInvalidDigest = errors.New("must be algorithm:hex, as in sha256:<64 lower-case hex digits>")

	// ErrUnsupportedDigestAlgorithm means the digest names an algorithm
	// other than sha256, sha384 or sha512.
	ErrUnsupportedDigestAlgorithm = errors.New("unsupported digest algorithm")

	// ErrDigestLength means the digest's encoded part has the wrong length
	// for its algorithm (64 hex digits for sha256, 128 for sha512).
	ErrDigestLength = errors.New("wrong length for its algorithm")
)

// Part names the part of a reference that an [Error] blames.
type Part int

// The parts of a reference, as in registry/repository:tag@digest.
const (
	// PartWhole blames the input as a whole.
	PartWhole Part = iota
	// PartRegistry blames the registry host and port.
	PartRegistry
	// PartRepository blames the repository path.
	PartRepository
	// PartTag blames the tag.
	PartTag
	// PartDigest blames the digest.
	PartDigest
)

// String returns the part's name as used in error messages: "reference",
// "registry", "repository", "tag" or "digest".
func (p Part) String() string {
	switch p {
	case PartWhole:
		return "reference"
	case PartRegistry:
		return "registry"
	case PartRepository:
		return "repository"
	case PartTag:
		return "tag"
	case PartDigest:
		return "digest"
	}
	return fmt.Sprintf("Part(%d)", int(p))
}

// Error is the error returned for input that is not a valid reference, or
// not a valid part of one. It names the part at fault and wraps one of the
// package's sentinel errors.
type Error struct {
	// Input is the string that was rejected: the whole reference for
	// [Parse] and [ParseRepository], the part alone for the Validate
	// functions and the With methods.
	Input string
	// Part is the part of Input at fault.
	Part Part
	// Err says what is wrong. It is or wraps one of the sentinel errors.
	Err error

	alone bool // Input is the part alone: from a Validate function
}

// Error returns a message such as
// `invalid reference "Foo": repository: must be lower case`, or, for a part
// given alone (to a Validate function or a With method), one such as
// `tag "-x": must be 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`,
// which names the input once however the error is wrapped.
func (e *Error) Error() string {
	err := e.Err
	if err == nil {
		err = ErrInvalidFormat
	}
	if e.alone && e.Part != PartWhole {
		return fmt.Sprintf("%s %q: %v", e.Part, e.Input, err)
	}
	if e.Part == PartWhole {
		return fmt.Sprintf("invalid reference %q: %v", e.Input, err)
	}
	return fmt.Sprintf("invalid reference %q: %s: %v", e.Input, e.Part, err)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the "invalid" sentinel of e's part:
// [ErrInvalidRegistry], [ErrInvalidRepository], [ErrInvalidTag] or
// [ErrInvalidDigest]. [errors.Is] also follows [Error.Unwrap], so e matches
// its own sentinel as well.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrInvalidRegistry:
		return e.Part == PartRegistry
	case ErrInvalidRepository:
		return e.Part == PartRepository
	case ErrInvalidTag:
		return e.Part == PartTag
	case ErrInvalidDigest:
		return e.Part == PartDigest
	}
	return false
}

// detailError gives a sentinel a more precise message while still matching
// it with errors.Is.
type detailError struct {
	msg string
	err error
}

func (d *detailError) Error() string { return d.msg }
func (d *detailError) Unwrap() error { return d.err }

// detail returns an error that reads msg and matches sentinel.
func detail(sentinel error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// fromCause maps an error from distribution/reference or go-digest onto the
// package's sentinels. It is the last resort of diagnose, used when no single
// part of the input could be blamed.
func fromCause(input string, cause error) *Error {
	mapping := []struct {
		from error
		part Part
		to   error
	}{
		{distref.ErrNameEmpty, PartRepository, ErrEmpty},
		{distref.ErrNameContainsUppercase, PartRepository, ErrUppercase},
		{distref.ErrNameTooLong, PartRepository, ErrNameTooLong},
		{distref.ErrTagInvalidFormat, PartTag, ErrInvalidTag},
		{distref.ErrDigestInvalidFormat, PartDigest, ErrInvalidDigest},
		{digest.ErrDigestUnsupported, PartDigest, ErrUnsupportedDigestAlgorithm},
		{digest.ErrDigestInvalidLength, PartDigest, ErrDigestLength},
		{digest.ErrDigestInvalidFormat, PartDigest, ErrInvalidDigest},
	}
	for _, m := range mapping {
		if errors.Is(cause, m.from) {
			return &Error{Input: input, Part: m.part, Err: m.to}
		}
	}
	return &Error{Input: input, Part: PartWhole, Err: ErrInvalidFormat}
}
