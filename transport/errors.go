package transport

import (
	"fmt"
	"net/http"
	"strings"
)

// Code is an error code of the OCI distribution API, as sent in the "code"
// field of an error body.
type Code string

// The error codes of the OCI distribution spec, and the Docker registry
// codes that real registries also send.
const (
	CodeBlobUnknown         Code = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   Code = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   Code = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       Code = "DIGEST_INVALID"
	CodeManifestBlobUnknown Code = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     Code = "MANIFEST_INVALID"
	CodeManifestUnknown     Code = "MANIFEST_UNKNOWN"
	CodeNameInvalid         Code = "NAME_INVALID"
	CodeNameUnknown         Code = "NAME_UNKNOWN"
	CodeSizeInvalid         Code = "SIZE_INVALID"
	CodeTagInvalid          Code = "TAG_INVALID"
	CodeUnauthorized        Code = "UNAUTHORIZED"
	CodeDenied              Code = "DENIED"
	CodeUnsupported         Code = "UNSUPPORTED"
	CodeTooManyRequests     Code = "TOOMANYREQUESTS"
	// CodePreconditionFailed is regkit's code for a conditional write whose
	// condition no longer holds (HTTP 412). It is not in the OCI spec.
	CodePreconditionFailed Code = "PRECONDITION_FAILED"
)

// Sentinel errors, one per code: each is its [Code], which is an error.
// They are constants, so no caller can change what they match. Every error
// a [Transport] returns for a registry condition matches one of them with
// [errors.Is], whatever its message, detail and cause:
//
//	if errors.Is(err, transport.ErrManifestUnknown) { … }
const (
	ErrBlobUnknown         = CodeBlobUnknown
	ErrBlobUploadInvalid   = CodeBlobUploadInvalid
	ErrBlobUploadUnknown   = CodeBlobUploadUnknown
	ErrDigestInvalid       = CodeDigestInvalid
	ErrManifestBlobUnknown = CodeManifestBlobUnknown
	ErrManifestInvalid     = CodeManifestInvalid
	ErrManifestUnknown     = CodeManifestUnknown
	ErrNameInvalid         = CodeNameInvalid
	ErrNameUnknown         = CodeNameUnknown
	ErrSizeInvalid         = CodeSizeInvalid
	ErrTagInvalid          = CodeTagInvalid
	ErrUnauthorized        = CodeUnauthorized
	ErrDenied              = CodeDenied
	ErrUnsupported         = CodeUnsupported
	ErrTooManyRequests     = CodeTooManyRequests
	ErrPreconditionFailed  = CodePreconditionFailed
)

const (
	// ErrNotFound matches every "unknown" error: of a blob, a manifest, a
	// repository or an upload session.
	ErrNotFound = sentinel("not found")

	// ErrTooManyPages is matched by the [*LimitError] of list iterators
	// that reached their page limit: the caller's, or [DefaultMaxPages].
	ErrTooManyPages = sentinel("too many pages")
)

// Error is a registry error: an OCI error code with a message, optional
// detail and an optional cause. It matches the sentinel of its code with
// [errors.Is], [ErrNotFound] when the code says something is unknown, and
// whatever its cause matches.
type Error struct {
	// Code is the OCI error code.
	Code Code `json:"code"`
	// Message says what went wrong, for a person. If empty, the code's
	// standard text is used.
	Message string `json:"message,omitempty"`
	// Detail is optional structured information, sent as the error body's
	// "detail" field.
	Detail any `json:"detail,omitempty"`
	// Err is the cause, if any: an error of another package (a
	// [github.com/regkit/regkit/reference.Error], an [*OriginError]) that
	// the code classifies. It is part of the message, and found by
	// [errors.Is] and [errors.As], but never sent over the wire.
	Err error `json:"-"`
}

// Errorf returns an [Error] with the given code and a formatted message.
// To keep an error as the cause, use [Wrap]: Errorf formats it into the
// message only.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an [Error] with the given code and err as its cause: it
// reads as the code's text followed by err's, and matches both the code's
// sentinel and whatever err matches:
//
//	err := transport.Wrap(transport.CodeTagInvalid, reference.ValidateTag("-x"))
//	// tag invalid: tag "-x": must be 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -
//	errors.Is(err, transport.ErrTagInvalid) // true
//	errors.Is(err, reference.ErrInvalidTag) // true
func Wrap(code Code, err error) *Error {
	return &Error{Code: code, Err: err}
}

// Error returns the code's text followed by the message and the cause, if
// any.
func (e *Error) Error() string {
	s := e.Code.Text()
	if e.Message != "" && e.Message != s {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's code, or [ErrNotFound]
// when e's code says something is unknown. An [*Error] target with only a
// code matches too.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return t == e.Code
	case *Error:
		return t.Code == e.Code && t.Message == "" && t.Detail == nil && t.Err == nil
	}
	return e.Code.Is(target)
}

// Error returns the code's [Code.Text] ("manifest unknown"), so that a code
// is its own sentinel error and reads as an [*Error] of that code without a
// message does. Because of it, fmt's %s and %v of a Code print that text
// too: print string(c) for the code as it is sent.
func (c Code) Error() string { return c.Text() }

// Is reports whether target is [ErrNotFound] and c says that something is
// unknown. ([errors.Is] already matches c with itself.)
func (c Code) Is(target error) bool {
	return target == ErrNotFound && c.IsNotFound()
}

// Text returns the code in lower case words ("manifest unknown").
func (c Code) Text() string {
	if c == CodeTooManyRequests {
		return "too many requests"
	}
	return strings.ToLower(strings.ReplaceAll(string(c), "_", " "))
}

// IsNotFound reports whether the code says that something is unknown.
func (c Code) IsNotFound() bool {
	switch c {
	case CodeBlobUnknown, CodeBlobUploadUnknown, CodeManifestUnknown, CodeNameUnknown:
		return true
	}
	return false
}

// HTTPStatus returns the status code the distribution spec pairs with c,
// or 400 for codes it does not know.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeBlobUnknown, CodeBlobUploadUnknown, CodeManifestUnknown, CodeNameUnknown:
		return http.StatusNotFound
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeDenied:
		return http.StatusForbidden
	case CodeUnsupported:
		return http.StatusMethodNotAllowed
	case CodeTooManyRequests:
		return http.StatusTooManyRequests
	case CodePreconditionFailed:
		return http.StatusPreconditionFailed
	case CodeSizeInvalid:
		return http.StatusBadRequest
	}
	return http.StatusBadRequest
}

// sentinel is the type of the sentinel errors that no code carries
// ([ErrNotFound], [ErrTooManyPages], [ErrLimitExceeded], [ErrPageLoop]):
// constants, like the codes, so that no caller can change what they match.
type sentinel string

func (s sentinel) Error() string { return string(s) }
