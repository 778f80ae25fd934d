package regkit

import (
	"fmt"

	"github.com/opencontainers/go-digest"
)

// ConstraintError is the error of a [MirrorOptions.Versions] constraint
// that does not parse.
type ConstraintError struct {
	// Constraint is the constraint as given.
	Constraint string
	// Err says what is wrong with it.
	Err error
}

// Error returns "version constraint ">=x": …".
func (e *ConstraintError) Error() string {
	return fmt.Sprintf("version constraint %q: %v", e.Constraint, e.Err)
}

// Unwrap returns e.Err.
func (e *ConstraintError) Unwrap() error { return e.Err }

// MirrorAction says what [Mirror] did with one tag.
type MirrorAction int

const (
	// MirrorCopied means the tag's image was copied (what the destination
	// lacked of it) and the tag pointed at it.
	MirrorCopied MirrorAction = iota + 1
	// MirrorUpToDate means the destination's tag already pointed at the
	// source's digest: nothing was copied, not even new referrers.
	MirrorUpToDate
	// MirrorWouldCopy means a dry run found the destination's tag missing
	// or pointing elsewhere.
	MirrorWouldCopy
	// MirrorFailed means the tag could not be mirrored; [MirroredTag.Err]
	// says why.
	MirrorFailed
)

// String returns "copied", "up to date", "would copy" or "failed".
func (a MirrorAction) String() string {
	switch a {
	case MirrorCopied:
		return "copied"
	case MirrorUpToDate:
		return "up to date"
	case MirrorWouldCopy:
		return "would copy"
	case MirrorFailed:
		return "failed"
	}
	return "unknown"
}

// MirroredTag is what [Mirror] did with one tag.
type MirroredTag struct {
	// Tag is the tag's name.
	Tag string
	// Digest is the digest the tag has in the source; empty when
	// resolving it failed.
	Digest digest.Digest
	// Action says what was done.
	Action MirrorAction
	// Err is why the tag failed (Action is MirrorFailed); nil otherwise.
	Err error
	// Copy is the report of the tag's [Copy] (of its dry run, for
	// MirrorWouldCopy); nil when the tag was up to date or failed.
	Copy *CopyReport
}

// MirrorReport says what [Mirror] did (or, in a dry run, would do).
type MirrorReport struct {
	// Tags are the tags selected, in the order the source lists them
	// (lexical), each with what was done.
	Tags []MirroredTag
	// Unselected are the tags of the source that MirrorOptions.Tags or
	// MirrorOptions.Versions left out.
	Unselected []string
	// Fallback are the source's referrers fallback tags (see
	// [tag.IsReferrersFallback]), which are not mirrored as tags.
	Fallback []string
}

// Count returns the number of tags with action a.
func (r *MirrorReport) Count(a MirrorAction) int {
	n := 0
	for _, t := range r.Tags {
		if t.Action == a {
			n++
		}
	}
	return n
}

// Bytes returns the number of bytes moved from the source to the
// destination, over all tags; in a dry run, the number a mirror would
// move.
func (r *MirrorReport) Bytes() int64 {
	var n int64
	for _, t := range r.Tags {
		if t.Copy != nil {
			n += t.Copy.Bytes()
		}
	}
	return n
}
