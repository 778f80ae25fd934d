package files

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// LayerError reports a layer that could not be read to its end: it cannot
// be opened, its media type is not a layer ([*layer.UnsupportedError]), its
// bytes are not a valid or complete tar (a truncated layer wraps
// [io.ErrUnexpectedEOF]), one of its entries is unsafe ([*UnsafeNameError])
// or it passes a limit ([*LimitError]). Match the cause with [errors.Is] or
// [errors.As].
type LayerError struct {
	// Index is the layer's position in the manifest: 0 is the base layer.
	Index int
	// Digest is the layer's digest.
	Digest digest.Digest
	// Err is the cause.
	Err error
}

func (e *LayerError) Error() string {
	return fmt.Sprintf("layer %d (%s): %v", e.Index, e.Digest, e.Err)
}

// Unwrap returns the cause.
func (e *LayerError) Unwrap() error { return e.Err }

// UnsafeNameError reports a tar entry whose name, or whose hard link
// target, climbs out of the image root with "..", or whose name goes
// through a symbolic link (or another non-directory) that an earlier entry
// of the same layer made: extracted naively, "evil -> /etc" then
// "evil/passwd" writes /etc/passwd of the host.
type UnsafeNameError struct {
	// Name is the entry's name, as written in the tar (cleaned when it
	// goes Through a non-directory).
	Name string
	// Linkname is the hard link target that escapes, or "" when the name
	// itself does.
	Linkname string
	// Through is the directory of Name that an earlier entry of the same
	// layer made a symbolic link or another non-directory, or "".
	Through string
}

func (e *UnsafeNameError) Error() string {
	if e.Through != "" {
		return fmt.Sprintf("tar entry %q: goes through %q, a non-directory of its own layer", e.Name, e.Through)
	}
	if e.Linkname != "" {
		return fmt.Sprintf("tar entry %q: hard link target %q escapes the image root", e.Name, e.Linkname)
	}
	return fmt.Sprintf("tar entry %q: name escapes the image root", e.Name)
}

// LimitError reports input past one of the limits set by [WithMaxEntries],
// [WithMaxLayerSize] or [WithMaxFileSize].
type LimitError struct {
	// What is "entries", "entry names" (their bytes), "layer size" or
	// "file size".
	What string
	// Limit is the limit that was passed.
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s over the limit of %d", e.What, e.Limit)
}

// Errors [ReadFile] and [Lstat] wrap in an [*fs.PathError] (besides
// [fs.ErrNotExist] for a path the image does not have).
var (
	// ErrNotRegular reports that [ReadFile] was asked for a directory, a
	// device or another file that has no content to read.
	ErrNotRegular = errors.New("not a regular file")

	// ErrTooManyLinks reports a path that goes through more than 40
	// symbolic links, or round a loop of them.
	ErrTooManyLinks = errors.New("too many levels of symbolic links")

	// ErrNameTooLong reports a path longer than 4096 bytes (PATH_MAX on
	// Linux): a tar entry's name or link target, a path given, or one
	// reached by following symbolic links.
	ErrNameTooLong = errors.New("file name too long")
)
