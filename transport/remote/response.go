package remote

import (
	"encoding/json"
	"fmt"
	"github.com/regkit/regkit/transport"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxErrorBody is the most of an error body the client reads.
const maxErrorBody = 64 << 10

// ResponseError is what a registry answered when it refused a request: the
// request, the HTTP status, and the errors of the response body.
//
// It matches the sentinels of its errors' codes with [errors.Is]
// (errors.Is(err, ErrManifestUnknown)), and [transport.ErrNotFound] for any "unknown"
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
	Errors []*transport.

		// Error returns the request, the status and the registry's errors, as in
		// `GET https://r.example/v2/x/manifests/1: 404 Not Found: manifest unknown`.
		Error
}

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
// ResponseError without errors of a known code: 401 is [transport.ErrUnauthorized],
// 403 [transport.ErrDenied], 404 [transport.ErrNotFound], 405 [transport.ErrUnsupported], 412
// [transport.ErrPreconditionFailed] and 429 [transport.ErrTooManyRequests]. Errors carrying codes
// are matched through Unwrap.
func (e *ResponseError) Is(target error) bool {
	for _, err := range e.Errors {
		if knownCode(err.Code) {
			return false
		}
	}
	if target == transport.ErrNotFound {
		return e.StatusCode == http.StatusNotFound
	}
	switch t := target.(type) {
	case transport.Code:
		return t == statusCode(e.StatusCode, "")
	case *transport.Error:
		return t.Message == "" && t.Detail == nil && t.Err == nil && t.Code == statusCode(e.StatusCode, "")
	}
	return false
}

// knownCode reports whether c is one of the codes of this package.
func knownCode(c transport.Code) bool {
	switch c {
	case transport.CodeBlobUnknown, transport.CodeBlobUploadInvalid, transport.CodeBlobUploadUnknown, transport.CodeDigestInvalid, transport.CodeManifestBlobUnknown, transport.CodeManifestInvalid, transport.CodeManifestUnknown, transport.CodeNameInvalid, transport.CodeNameUnknown, transport.CodeSizeInvalid, transport.CodeTagInvalid, transport.CodeUnauthorized, transport.

		// statusCode returns the code a status implies, with notFound for 404, or
		// "" when it implies none.
		CodeDenied, transport.CodeUnsupported, transport.CodeTooManyRequests, transport.CodePreconditionFailed:
		return true
	}
	return false
}

func statusCode(status int, notFound transport.Code) transport.Code {
	switch status {
	case http.StatusNotFound:
		return notFound
	case http.StatusUnauthorized:
		return transport.CodeUnauthorized
	case http.StatusForbidden:
		return transport.CodeDenied
	case http.StatusMethodNotAllowed:
		return transport.CodeUnsupported
	case http.StatusPreconditionFailed:
		return transport.CodePreconditionFailed
	case http.StatusTooManyRequests:
		return transport.CodeTooManyRequests
	}
	return ""
}

// responseError reads at most 64 KiB of resp's body, closes it, and
// returns the error it says. A body that is not an OCI error body is no
// failure: its start becomes the message of the code derived from the
// status, with notFound as the code of a 404. A 404 whose codes say nothing
// is unknown gets notFound added.
func responseError(resp *http.Response, notFound transport.Code) *ResponseError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	drainClose(resp)
	e := &ResponseError{
		Method:     resp.Request.Method,
		URL:        redact(resp.Request.URL),
		StatusCode: resp.StatusCode,
	}
	var wire struct {
		Errors []*transport.Error `json:"errors"`
	}
	known, notFoundKnown := false, false
	if json.Unmarshal(body, &wire) == nil {
		for _, err := range wire.Errors {
			if err == nil || err.Code == "" {
				continue
			}
			e.Errors = append(e.Errors, err)
			known = known || knownCode(err.Code)
			notFoundKnown = notFoundKnown || err.Code.IsNotFound()
		}
	}
	if known && resp.StatusCode == http.StatusNotFound && notFound != "" && !notFoundKnown {
		// A 404 says something is unknown whatever the codes say (the
		// distribution registry answers an unknown upload session with
		// BLOB_UPLOAD_INVALID): say what.
		e.Errors = append(e.Errors, &transport.Error{Code: notFound})
	}
	if insufficientScope(resp) {
		// Credentials were sent and accepted, but do not grant this: the
		// answer is a 401 by the token spec, a denial by meaning.
		e.Errors = append(e.Errors, &transport.Error{Code: transport.CodeDenied, Message: "the token sent does not grant this access (insufficient_scope)"})
	}
	if known {
		return e
	}
	if code := statusCode(resp.StatusCode, notFound); code != "" {
		e.Errors = append(e.Errors, &transport.Error{Code: code, Message: bodySnippet(body, len(e.Errors) > 0)})
	}
	return e
}

// insufficientScope reports whether resp is a 401 to a request that
// carried credentials, whose Bearer challenge says error="insufficient_scope"
// (RFC 6750, section 3.1).
func insufficientScope(resp *http.Response) bool {
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

// bodySnippet returns the start of a body that is not an OCI error body,
// for a message, or "" when it is empty, binary or was decoded.
func bodySnippet(body []byte, decoded bool) string {
	if decoded || len(body) == 0 || !utf8.Valid(body) || json.Valid(body) {
		return ""
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// safeParams are the query parameters of the spec, whose values are no
// secret and help to read an error.
var safeParams = map[string]bool{"n": true, "last": true, "digest": true, "mount": true, "from": true, "artifactType": true}

// redact returns u without user information and with every query value
// but those of the spec's parameters replaced: upload locations and
// redirects to object storage carry credentials there.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := *u
	r.User = nil
	if r.RawQuery != "" {
		q := r.Query()
		for k, vs := range q {
			if !safeParams[k] {
				for i := range vs {
					vs[i] = "REDACTED"
				}
			}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}

// drainClose drains a little of resp's body, so the connection can be reused,
// and closes it.
func drainClose(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}
