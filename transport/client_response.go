package transport

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// clMaxErrorBody is the most of an error body the client reads.
const clMaxErrorBody = 64 << 10

// ResponseError is what a registry answered when it refused a request: the
// request, the HTTP status, and the errors of the response body.
//
// It matches the sentinels of its errors' codes with [errors.Is]
// (errors.Is(err, ErrManifestUnknown)), and [ErrNotFound] for any "unknown"
// code. When the body carries no code regkit knows (a HEAD response has no
// body at all), the client adds one it derives from the status and the
// operation: a 404 of a manifest request gives MANIFEST_UNKNOWN, of a blob
// request BLOB_UNKNOWN, 401 UNAUTHORIZED, 403 DENIED, 405 UNSUPPORTED, 412
// PRECONDITION_FAILED and 429 TOOMANYREQUESTS. Read the codes, messages and
// details with [errors.As].
type ResponseError struct {
	// Method is the request's method.
	Method string
	// URL is the request's URL, redacted: no user information, and no
	// query values but those of the spec's own parameters (a signed URL's
	// credentials never show).
	URL string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Errors are the errors the response body held, then the one derived
	// from the status when the body held none with a known code. It may
	// be empty.
	Errors []*Error
}

// Error returns the request, the status and the registry's errors, as in
// `GET https://r.example/v2/x/manifests/1: 404 Not Found: manifest unknown`.
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	for i, err := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the registry's errors, so that [errors.Is] and [errors.As]
// find them.
func (e *ResponseError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, err := range e.Errors {
		errs[i] = err
	}
	return errs
}

// Is reports whether the status alone says what target does, for a
// ResponseError without errors of a known code: 401 is [ErrUnauthorized],
// 403 [ErrDenied], 404 [ErrNotFound], 405 [ErrUnsupported], 412
// [ErrPreconditionFailed] and 429 [ErrTooManyRequests]. Errors carrying codes
// are matched through Unwrap.
func (e *ResponseError) Is(target error) bool {
	for _, err := range e.Errors {
		if clKnownCode(err.Code) {
			return false
		}
	}
	if target == ErrNotFound {
		return e.StatusCode == http.StatusNotFound
	}
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Detail == nil && t.Code == clStatusCode(e.StatusCode, "")
}

// clKnownCode reports whether c is one of the codes of this package.
func clKnownCode(c Code) bool {
	switch c {
	case CodeBlobUnknown, CodeBlobUploadInvalid, CodeBlobUploadUnknown, CodeDigestInvalid,
		CodeManifestBlobUnknown, CodeManifestInvalid, CodeManifestUnknown, CodeNameInvalid,
		CodeNameUnknown, CodeSizeInvalid, CodeTagInvalid, CodeUnauthorized, CodeDenied,
		CodeUnsupported, CodeTooManyRequests, CodePreconditionFailed:
		return true
	}
	return false
}

// clStatusCode returns the code a status implies, with notFound for 404, or
// "" when it implies none.
func clStatusCode(status int, notFound Code) Code {
	switch status {
	case http.StatusNotFound:
		return notFound
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeDenied
	case http.StatusMethodNotAllowed:
		return CodeUnsupported
	case http.StatusPreconditionFailed:
		return CodePreconditionFailed
	case http.StatusTooManyRequests:
		return CodeTooManyRequests
	}
	return ""
}

// clResponseError reads at most 64 KiB of resp's body, closes it, and
// returns the error it says. A body that is not an OCI error body is no
// failure: its start becomes the message of the code derived from the
// status, with notFound as the code of a 404. A 404 whose codes say nothing
// is unknown gets notFound added.
func clResponseError(resp *http.Response, notFound Code) *ResponseError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, clMaxErrorBody))
	clClose(resp)
	e := &ResponseError{
		Method:     resp.Request.Method,
		URL:        clRedact(resp.Request.URL),
		StatusCode: resp.StatusCode,
	}
	var wire struct {
		Errors []*Error `json:"errors"`
	}
	known, notFoundKnown := false, false
	if json.Unmarshal(body, &wire) == nil {
		for _, err := range wire.Errors {
			if err == nil || err.Code == "" {
				continue
			}
			e.Errors = append(e.Errors, err)
			known = known || clKnownCode(err.Code)
			notFoundKnown = notFoundKnown || err.Code.IsNotFound()
		}
	}
	if known && resp.StatusCode == http.StatusNotFound && notFound != "" && !notFoundKnown {
		// A 404 says something is unknown whatever the codes say (the
		// distribution registry answers an unknown upload session with
		// BLOB_UPLOAD_INVALID): say what.
		e.Errors = append(e.Errors, &Error{Code: notFound})
	}
	if clInsufficientScope(resp) {
		// Credentials were sent and accepted, but do not grant this: the
		// answer is a 401 by the token spec, a denial by meaning.
		e.Errors = append(e.Errors, &Error{Code: CodeDenied, Message: "the token sent does not grant this access (insufficient_scope)"})
	}
	if known {
		return e
	}
	if code := clStatusCode(resp.StatusCode, notFound); code != "" {
		e.Errors = append(e.Errors, &Error{Code: code, Message: clBodySnippet(body, len(e.Errors) > 0)})
	}
	return e
}

// clInsufficientScope reports whether resp is a 401 to a request that
// carried credentials, whose Bearer challenge says error="insufficient_scope"
// (RFC 6750, section 3.1).
func clInsufficientScope(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized || resp.Request.Header.Get("Authorization") == "" {
		return false
	}
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		c = strings.ToLower(c)
		if strings.HasPrefix(strings.TrimSpace(c), "bearer") && strings.Contains(c, "insufficient_scope") {
			return true
		}
	}
	return false
}

// clBodySnippet returns the start of a body that is not an OCI error body,
// for a message, or "" when it is empty, binary or was decoded.
func clBodySnippet(body []byte, decoded bool) string {
	if decoded || len(body) == 0 || !utf8.Valid(body) || json.Valid(body) {
		return ""
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// clSafeParams are the query parameters of the spec, whose values are no
// secret and help to read an error.
var clSafeParams = map[string]bool{"n": true, "last": true, "digest": true, "mount": true, "from": true, "artifactType": true}

// clRedact returns u without user information and with every query value
// but those of the spec's parameters replaced: upload locations and
// redirects to object storage carry credentials there.
func clRedact(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	r.User = nil
	if r.RawQuery != "" {
		q := r.Query()
		for k, vs := range q {
			if !clSafeParams[k] {
				for i := range vs {
					vs[i] = "REDACTED"
				}
			}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}

// clClose drains a little of resp's body, so the connection can be reused,
// and closes it.
func clClose(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}
