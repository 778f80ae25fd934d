package transport_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/regkit/regkit/transport"
)

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
		err  *transport.Error
		want string
	}{
		{transport.ErrManifestUnknown, "manifest unknown"},
		{transport.Errorf(transport.CodeManifestUnknown, "tag %q not found", "v1"), `manifest unknown: tag "v1" not found`},
		{transport.ErrTooManyRequests, "too many requests"},
		{&transport.Error{Code: transport.CodeDenied, Message: "denied"}, "denied"},
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
