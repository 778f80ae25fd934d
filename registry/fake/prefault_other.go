//go:build !linux

package fake

// prefault does nothing: see the Linux version.
func prefault([]byte) {}
