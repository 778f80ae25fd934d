package backend

import (
	"time"

	"github.com/regkit/regkit/transport"
)

// The bounds on upload sessions that the fake and ocilayout backends share
// unless their options say otherwise: a session idle for an hour expires,
// and at most 1000 are open at once.
const (
	DefaultUploadExpiry = time.Hour
	DefaultMaxUploads   = 1000
)

// Setting applies the module's convention for a bound or timeout v given
// to an option: zero means def, a negative value means off, which the
// backends store as zero.
func Setting[T ~int | ~int64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// TooManyUploads returns the TOOMANYREQUESTS error of a session refused
// because n sessions, the most the backend allows, are open.
func TooManyUploads(n int) error {
	return transport.Errorf(transport.CodeTooManyRequests,
		"%d upload sessions are open, the most this registry allows: finish or cancel one, or try again once idle ones expire", n)
}

// TruncateInvalid returns the BLOB_UPLOAD_INVALID error of a truncation of
// session id, which holds held bytes, to size bytes: a size that is
// negative or beyond what it holds.
func TruncateInvalid(id string, size, held int64) error {
	return transport.Errorf(transport.CodeBlobUploadInvalid, "cannot truncate upload %q to %d bytes: it holds %d", id, size, held)
}
