package transport

import (
	"errors"
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

// Sentinel errors, one per code. Every error a [Transport] returns for a
// registry condition matches one of them with [errors.Is], whatever its
// message and detail:
//
//	if errors.Is(err, transport.ErrManifestUnknown) { … }
var (
	ErrBlobUnknown         = &Error{Code: CodeBlobUnknown}
	ErrBlobUploadInvalid   = &Error{Code: CodeBlobUploadInvalid}
	ErrBlobUploadUnknown   = &Error{Code: CodeBlobUploadUnknown}
	ErrDigestInvalid       = &Error{Code: CodeDigestInvalid}
	ErrManifestBlobUnknown = &Error{Code: CodeManifestBlobUnknown}
	ErrManifestInvalid     = &Error{Code: CodeManifestInvalid}
	ErrManifestUnknown     = &Error{Code: CodeManifestUnknown}
	ErrNameInvalid         = &Error{Code: CodeNameInvalid}
	ErrNameUnknown         = &Error{Code: CodeNameUnknown}
	ErrSizeInvalid         = &Error{Code: CodeSizeInvalid}
	ErrTagInvalid          = &Error{Code: CodeTagInvalid}
	ErrUnauthorized        = &Error{Code: CodeUnauthorized}
	ErrDenied              = &Error{Code: CodeDenied}
	ErrUnsupported         = &Error{Code: CodeUnsupported}
	ErrTooManyRequests     = &Error{Code: CodeTooManyRequests}
	ErrPreconditionFailed  = &Error{Code: CodePreconditionFailed}

	// ErrNotFound matches every "unknown" error: of a blob, a manifest, a
	// repository or an upload session.
	ErrNotFound = errors.New("not found")

	// ErrTooManyPages is matched by the [*LimitError] of list iterators
	// that reached their page limit: the caller's, or [DefaultMaxPages].
	ErrTooManyPages = errors.New("too many pages")
)

// Error is a registry error: an OCI error code with a message and optional
// detail. It matches the sentinel of its code with [errors.Is], and
// [ErrNotFound] when the code says something is unknown.
type Error struct {
	// Code is the OCI error code.
	Code Code `json:"code"`
	// Message says what went wrong, for a person. If empty, the code's
	// standard text is used.
	Message string `json:"message,omitempty"`
	// Detail is optional structured information, sent as the error body's
	// "detail" field.
	Detail any `json:"detail,omitempty"`
}

// Errorf returns an [Error] with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error returns the code's text followed by the message, if any.
func (e *Error) Error() string {
	text := e.Code.Text()
	if e.Message == "" || e.Message == text {
		return text
	}
	return text + ": " + e.Message
}

// Is reports whether target is the sentinel of e's code, or [ErrNotFound]
// when e's code says something is unknown.
func (e *Error) Is(target error) bool {
	if target == ErrNotFound {
		return e.Code.IsNotFound()
	}
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Detail == nil
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
