package remote

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/regkit/regkit/transport"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestResponseErrorText(t *testing.T) {
	t.Parallel()
	e := &ResponseError{
		Method: "GET", URL: "https://r.example/v2/x/manifests/1", StatusCode: 404,
		Errors: []*transport.Error{transport.Errorf(transport.CodeManifestUnknown, "no such tag"), {Code: "WEIRD"}},
	}
	want := "GET https://r.example/v2/x/manifests/1: 404 Not Found: manifest unknown: no such tag; weird"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&ResponseError{Method: "HEAD", URL: "u", StatusCode: 500}).Error(); got != "HEAD u: 500 Internal Server Error" {
		t.Errorf("Error() = %q", got)
	}
}

func TestResponseErrorIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    *ResponseError
		target error
		want   bool
	}{
		{"404 without codes is not found", &ResponseError{StatusCode: 404}, transport.ErrNotFound, true},
		{"404 without codes is no manifest unknown", &ResponseError{StatusCode: 404}, transport.ErrManifestUnknown, false},
		{"401", &ResponseError{StatusCode: 401}, transport.ErrUnauthorized, true},
		{"403", &ResponseError{StatusCode: 403}, transport.ErrDenied, true},
		{"405", &ResponseError{StatusCode: 405}, transport.ErrUnsupported, true},
		{"412", &ResponseError{StatusCode: 412}, transport.ErrPreconditionFailed, true},
		{"429", &ResponseError{StatusCode: 429}, transport.ErrTooManyRequests, true},
		{"500", &ResponseError{StatusCode: 500}, transport.ErrNotFound, false},
		{"unknown codes fall back to the status", &ResponseError{StatusCode: 403, Errors: []*transport.Error{{Code: "WEIRD"}}}, transport.ErrDenied, true},
		{"codes win over the status", &ResponseError{StatusCode: 404, Errors: []*transport.Error{{Code: transport.CodeNameUnknown}}}, transport.ErrNameUnknown, true},
		{"codes win over the status, not found", &ResponseError{StatusCode: 404, Errors: []*transport.Error{{Code: transport.CodeNameUnknown}}}, transport.ErrNotFound, true},
		{"codes win over the status, other", &ResponseError{StatusCode: 401, Errors: []*transport.Error{{Code: transport.CodeDenied}}}, transport.ErrUnauthorized, false},
		{"a specific error is no sentinel", &ResponseError{StatusCode: 401}, transport.Errorf(transport.CodeUnauthorized, "x"), false},
		{"wrapped", &ResponseError{StatusCode: 400, Errors: []*transport.Error{{Code: transport.CodeDigestInvalid}}}, transport.ErrDigestInvalid, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("op: %w", tc.err)
			if got := errors.Is(err, tc.target); got != tc.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", err, tc.target, got, tc.want)
			}
		})
	}
	var e *transport.Error
	if !errors.As(fmt.Errorf("x: %w", &ResponseError{StatusCode: 400, Errors: []*transport.Error{transport.Errorf(transport.CodeSizeInvalid, "n")}}), &e) || e.Code != transport.CodeSizeInvalid {
		t.Error("errors.As did not find the *Error")
	}
}

func TestResponseErrorDecode(t *testing.T) {
	t.Parallel()
	huge := `{"errors":[{"code":"DENIED","message":"` + strings.Repeat("x", 100<<10) + `"}]}`
	tests := []struct {
		name     string
		status   int
		body     string
		notFound transport.Code
		want     []transport.Code
		wantMsg  string
		// auth and challenge are the request's Authorization header and
		// the answer's WWW-Authenticate.
		auth, challenge string
	}{
		{name: "codes", status: 400, body: `{"errors":[{"code":"NAME_INVALID","message":"bad"},null,{"code":""},{"code":"TAG_INVALID"}]}`, want: []transport.Code{transport.CodeNameInvalid, transport.CodeTagInvalid}},
		{name: "no body, 404 of a blob", status: 404, notFound: transport.CodeBlobUnknown, want: []transport.Code{transport.CodeBlobUnknown}},
		{name: "no body, 500", status: 500},
		{name: "text body", status: 403, body: "go   away\n", want: []transport.Code{transport.CodeDenied}, wantMsg: "go away"},
		{name: "binary body", status: 403, body: "\xff\xfe", want: []transport.Code{transport.CodeDenied}},
		{name: "other json", status: 429, body: `{"error":"slow down"}`, want: []transport.Code{transport.CodeTooManyRequests}},
		{name: "unknown code kept, status added", status: 401, body: `{"errors":[{"code":"NEW_THING","message":"m"}]}`, want: []transport.Code{"NEW_THING", transport.CodeUnauthorized}},
		{name: "larger than 64 KiB is cut, not decoded", status: 403, body: huge, want: []transport.Code{transport.CodeDenied}},
		{name: "404 with codes that say nothing is unknown", status: 404, notFound: transport.CodeBlobUploadUnknown, body: `{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}`, want: []transport.Code{transport.CodeBlobUploadInvalid, transport.CodeBlobUploadUnknown}},
		{name: "404 with a not found code", status: 404, notFound: transport.CodeManifestUnknown, body: `{"errors":[{"code":"NAME_UNKNOWN"}]}`, want: []transport.Code{transport.CodeNameUnknown}},
		{name: "insufficient scope with credentials is denied", status: 401, body: `{"errors":[{"code":"UNAUTHORIZED"}]}`,
			auth: "Bearer t", challenge: `Bearer realm="https://a.example/token",error="insufficient_scope"`, want: []transport.Code{transport.CodeUnauthorized, transport.CodeDenied}},
		{name: "insufficient scope, no body", status: 401, auth: "Bearer t", challenge: `Bearer error="insufficient_scope",realm="r"`, want: []transport.Code{transport.CodeDenied, transport.CodeUnauthorized}},
		{name: "insufficient scope without credentials", status: 401, challenge: `Bearer realm="r",error="insufficient_scope"`, want: []transport.Code{transport.CodeUnauthorized}},
		{name: "invalid token", status: 401, auth: "Bearer t", challenge: `Bearer realm="r",error="invalid_token"`, want: []transport.Code{transport.CodeUnauthorized}},
		{name: "long text is shortened", status: 403, body: strings.Repeat("y", 300), want: []transport.Code{transport.CodeDenied}, wantMsg: strings.Repeat("y", 200) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var read atomic.Int64
			u, _ := url.Parse("https://r.example/v2/x/blobs/y")
			resp := &http.Response{
				StatusCode: tc.status, Request: &http.Request{Method: "GET", URL: u, Header: http.Header{}},
				Header: http.Header{}, Body: countingBody{strings.NewReader(tc.body), &read},
			}
			if tc.auth != "" {
				resp.Request.Header.Set("Authorization", tc.auth)
			}
			if tc.challenge != "" {
				resp.Header.Set("WWW-Authenticate", tc.challenge)
			}
			e := responseError(resp, tc.notFound)
			var got []transport.Code
			for _, err := range e.Errors {
				got = append(got, err.Code)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("codes = %v, want %v", got, tc.want)
			}
			if tc.wantMsg != "" && e.Errors[len(e.Errors)-1].Message != tc.wantMsg {
				t.Errorf("message = %q, want %q", e.Errors[len(e.Errors)-1].Message, tc.wantMsg)
			}
			if read.Load() > maxErrorBody+4<<10 {
				t.Errorf("read %d bytes of the error body", read.Load())
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://user:pass@r.example/v2/x/blobs/uploads/1?_state=secret&digest=sha256:ab&X-Amz-Signature=sig&n=2")
	got := redact(u)
	for _, leak := range []string{"user", "pass", "secret", "sig"} {
		if strings.Contains(got, leak) {
			t.Errorf("redact = %q leaks %q", got, leak)
		}
	}
	if !strings.Contains(got, "digest=sha256%3Aab") || !strings.Contains(got, "n=2") || !strings.Contains(got, "_state=REDACTED") {
		t.Errorf("redact = %q, want the spec's parameters kept", got)
	}
	if redact(nil) != "" {
		t.Error("redact(nil)")
	}
	// Through a real request: a refused PUT to a signed location.
	mux, c := newMux(t, WithSinglePOSTMax(-1))
	mux.HandleFunc("POST /v2/x/blobs/uploads/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/v2/x/blobs/uploads/1?token=hunter2")
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("PUT /v2/x/blobs/uploads/1", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
	})
	err := c.PutBlob(t.Context(), "x", blobDesc([]byte("b")), bytes.NewReader([]byte("b")))
	if !errors.Is(err, transport.ErrDenied) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("PutBlob = %v, want ErrDenied without the token", err)
	}
}

func TestCapsString(t *testing.T) {
	t.Parallel()
	for v, want := range map[tri]string{triUnknown: "unknown", triYes: "yes", triNo: "no"} {
		if v.String() != want {
			t.Errorf("%d.String() = %q, want %q", v, v.String(), want)
		}
	}
	var c capabilities
	c.noteChunkMin(10)
	c.noteChunkMin(5)
	if c.chunkMin.Load() != 10 {
		t.Errorf("chunkMin = %d, want the largest, 10", c.chunkMin.Load())
	}
}
