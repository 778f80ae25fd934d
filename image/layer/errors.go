package layer

import (
	"errors"
	"fmt"
)

// Reasons an [*EntryError] gives for refusing an entry.
var (
	// ErrAbsolutePath refuses an entry whose name (or hard link target)
	// starts with "/".
	ErrAbsolutePath = errors.New("absolute path")
	// ErrPathEscapes refuses an entry whose name (or hard link target)
	// leads out of the layer's root through "..".
	ErrPathEscapes = errors.New("path escapes the layer root")
	// ErrEmptyPath refuses a [File] without a name.
	ErrEmptyPath = errors.New("empty path")
	// ErrDuplicate refuses a second [File] of the same (cleaned) name.
	ErrDuplicate = errors.New("duplicate entry")
	// ErrUnsupportedType refuses an entry of a type a layer cannot hold:
	// from disk or a [File], anything but a regular file, a directory or
	// a symbolic link (a device, a socket, a named pipe); from a tar (see
	// [FromTar]), a type a runtime does not unpack.
	ErrUnsupportedType = errors.New("unsupported file type")
)

// EntryError says which entry of a layer's input was refused, and why:
// errors.Is matches its reason (ErrAbsolutePath, ErrPathEscapes, …).
type EntryError struct {
	// Name is the entry's name as the input gave it.
	Name string
	// Err is the reason.
	Err error
}

func (e *EntryError) Error() string { return fmt.Sprintf("layer entry %q: %v", e.Name, e.Err) }

// Unwrap returns the reason.
func (e *EntryError) Unwrap() error { return e.Err }
