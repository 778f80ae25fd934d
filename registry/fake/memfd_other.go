//go:build !linux || !(amd64 || arm64)

package fake

import "errors"

// openMemfd fails: here blobs stay in the Go heap.
func openMemfd() (blobFile, error) { return nil, errors.ErrUnsupported }
