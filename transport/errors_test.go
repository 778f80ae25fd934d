package transport_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/regkit/regkit/transport"
)

var errCause = errors.New("the cause")

func TestErrorIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", transport.Errorf(transport.CodeManifestUnknown, "tag %q", "x"), transport.ErrManifestUnknown, true},
		{"wrapped", fmt.Errorf("get: %w", transport.Errorf(transport.CodeBlobUnknown, "b")), transport.ErrBlobUnknown, true},
		{"other code", transport.Errorf(transport.CodeBlobUnknown, "b"), transport.ErrManifestUnknown, false},
		{"unknown is not found", transport.Errorf(transport.CodeNameUnknown, "r"), transport.ErrNotFound, true},
		{"upload unknown is not found", transport.ErrBlobUploadUnknown, transport.ErrNotFound, true},
		{"invalid is not not found", transport.Errorf(transport.CodeNameInvalid, "r"), transport.ErrNotFound, false},
		{"specific error is not a sentinel", transport.ErrDenied, transport.Errorf(transport.CodeDenied, "x"), false},
		{"sentinel is itself", transport.ErrDenied, transport.ErrDenied, true},
		{"plain error", errors.New("x"), transport.ErrDenied, false},
		{"code target", transport.Errorf(transport.CodeDenied, "x"), transport.CodeDenied, true},
		{"bare unknown sentinel is not found", transport.ErrManifestUnknown, transport.ErrNotFound, true},
		{"bare invalid sentinel is not not found", transport.ErrTagInvalid, transport.ErrNotFound, false},
		{"code-only *Error target", transport.Errorf(transport.CodeDenied, "x"), &transport.Error{Code: transport.CodeDenied}, true},
		{"wrapped cause, code", transport.Wrap(transport.CodeTagInvalid, errCause), transport.ErrTagInvalid, true},
		{"wrapped cause, cause", transport.Wrap(transport.CodeTagInvalid, errCause), errCause, true},
		{"wrapped cause, other code", transport.Wrap(transport.CodeTagInvalid, errCause), transport.ErrNameInvalid, false},
		{"cause of a cause", transport.Wrap(transport.CodeDenied, fmt.Errorf("x: %w", transport.ErrNameUnknown)), transport.ErrNotFound, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(tc.err, tc.target); got != tc.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tc.err, tc.target, got, tc.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{transport.ErrManifestUnknown, "manifest unknown"}, // a bare sentinel reads as its Error would
		{&transport.Error{Code: transport.CodeManifestUnknown}, "manifest unknown"},
		{transport.Errorf(transport.CodeManifestUnknown, "tag %q not found", "v1"), `manifest unknown: tag "v1" not found`},
		{&transport.Error{Code: transport.CodeTooManyRequests}, "too many requests"},
		{&transport.Error{Code: transport.CodeDenied, Message: "denied"}, "denied"},
		{transport.Wrap(transport.CodeTagInvalid, errCause), "tag invalid: the cause"},
		{&transport.Error{Code: transport.CodeDenied, Message: "no", Err: errCause}, "denied: no: the cause"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	var e *transport.Error
	if !errors.As(fmt.Errorf("op: %w", transport.Errorf(transport.CodeSizeInvalid, "n")), &e) || e.Code != transport.CodeSizeInvalid {
		t.Errorf("errors.As did not find the *Error")
	}
}

func TestCodeHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := map[transport.Code]int{
		transport.CodeBlobUnknown:        http.StatusNotFound,
		transport.CodeBlobUploadUnknown:  http.StatusNotFound,
		transport.CodeManifestUnknown:    http.StatusNotFound,
		transport.CodeNameUnknown:        http.StatusNotFound,
		transport.CodeUnauthorized:       http.StatusUnauthorized,
		transport.CodeDenied:             http.StatusForbidden,
		transport.CodeUnsupported:        http.StatusMethodNotAllowed,
		transport.CodeTooManyRequests:    http.StatusTooManyRequests,
		transport.CodePreconditionFailed: http.StatusPreconditionFailed,
		transport.CodeDigestInvalid:      http.StatusBadRequest,
		transport.CodeSizeInvalid:        http.StatusBadRequest,
		transport.CodeNameInvalid:        http.StatusBadRequest,
		transport.Code("SOMETHING_NEW"):  http.StatusBadRequest,
	}
	for code, want := range tests {
		if got := code.HTTPStatus(); got != want {
			t.Errorf("%s.HTTPStatus() = %d, want %d", code, got, want)
		}
	}
}

// TestSentinelsAreConstants shows that a caller cannot change what a
// sentinel matches: the sentinels are constants of type Code (the const
// declaration below would not compile if they were variables).
func TestSentinelsAreConstants(t *testing.T) {
	t.Parallel()
	const sentinel = transport.ErrBlobUnknown // compiles for constants only
	// So are the sentinels no code carries.
	const notFound, pages, limit, loop = transport.ErrNotFound, transport.ErrTooManyPages, transport.ErrLimitExceeded, transport.ErrPageLoop
	for _, err := range []error{notFound, pages, limit, loop} {
		if !errors.Is(err, err) || err.Error() == "" {
			t.Errorf("sentinel %v does not match itself", err)
		}
	}
	if got := fmt.Sprintf("%v %q", sentinel, string(sentinel)); got != `blob unknown "BLOB_UNKNOWN"` {
		t.Errorf("ErrBlobUnknown formats as %s, want its text and, as a string, its code", got)
	}
	e := transport.Errorf(transport.CodeBlobUnknown, "b")
	e.Message = "changed"
	if !errors.Is(e, transport.ErrBlobUnknown) {
		t.Errorf("an error whose message a caller changed no longer matches its sentinel")
	}
}

func TestErrorUnwrapAndJSON(t *testing.T) {
	t.Parallel()
	e := transport.Wrap(transport.CodeNameInvalid, errCause)
	if errors.Unwrap(e) != errCause {
		t.Errorf("Unwrap = %v, want the cause", errors.Unwrap(e))
	}
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(body), `{"code":"NAME_INVALID"}`; got != want {
		t.Errorf("json = %s, want %s (no cause on the wire)", got, want)
	}
}
