// Package mount holds the rules copy and push share for mounting a blob
// from one repository into another: when two transports reach the same
// registry ([Same]), and which failed mounts are worth falling back to an
// upload ([Refused]).
package mount

import (
	"errors"
	"reflect"

	"github.com/regkit/regkit/transport"
)

// Same reports whether a and b reach the same registry, so that blobs can
// be mounted from one into the other: their origins are equal (two clients
// of one registry, which may hold different credentials: a mount they
// refuse falls back to a copy), or they are, under their decorators, the
// same transport. Both are found through Unwrap chains (see
// [transport.Find]). Transports that cannot be compared are not the same.
func Same(a, b transport.Transport) bool {
	if a == nil || b == nil {
		return false
	}
	oa, okA := transport.Find[transport.Originer](a)
	ob, okB := transport.Find[transport.Originer](b)
	if okA && okB && oa.Origin() == ob.Origin() {
		return true
	}
	return identical(innermost(a), innermost(b))
}

// innermost returns the transport at the end of t's Unwrap chain, or t
// when the chain loops.
func innermost(t transport.Transport) transport.Transport {
	for range 64 {
		u := transport.Unwrap(t)
		if u == nil {
			return t
		}
		t = u
	}
	return t
}

// identical reports whether a and b are the same value, without the panic
// of == on values of a type that is not comparable.
func identical(a, b transport.Transport) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Type() == vb.Type() && va.Comparable() && va.Equal(vb)
}

// Refused reports whether a failed mount is worth retrying as an upload.
func Refused(err error) bool {
	for _, target := range []error{transport.ErrUnsupported, transport.ErrBlobUnknown, transport.ErrDenied, transport.ErrUnauthorized} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
