package files

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/regkit/regkit/image"
)

// WalkFunc is called by [Walk] for each file of the image: hdr describes
// it (its Name cleaned, see the package documentation), r reads its content
// and is valid only until WalkFunc returns. Returning [fs.SkipAll] stops the
// walk without error; any other error stops it and Walk returns it.
type WalkFunc func(hdr *tar.Header, r io.Reader) error

// Walk calls fn for each file of the image's filesystem, with the OCI
// whiteouts applied: layers are read from the top of the image down to its
// base, each path is reported once, in its topmost version, and deleted
// paths are not reported (see the package documentation for the rules and
// for a path repeated in one layer). Within a layer, files come in tar order;
// a directory may come after files under it (its upper version came first).
//
// Walk streams each layer once, and keeps one record per path it reported
// or saw deleted, bounded by [WithMaxEntries].
func Walk(ctx context.Context, img *image.Image, fn WalkFunc, opts ...Option) error {
	o := makeOptions(opts)
	err := walkLayers(ctx, img.Layers(), fn, &o)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// walkLayers is Walk over a list of layers, base first.
func walkLayers(ctx context.Context, layers []image.Blob, fn WalkFunc, o *options) error {
	t := tracker{paths: map[string]pathState{}, max: o.maxEntries}
	for i := len(layers) - 1; i >= 0; i-- {
		t.layer++
		limitErr := func(err error) error {
			return &LayerError{Index: i, Digest: layers[i].Descriptor().Digest, Err: err}
		}
		err := readLayer(ctx, layers[i], i, o, func(hdr *tar.Header, r io.Reader) error {
			if d := t.throughNonDir(hdr.Name); d != "" {
				return &LayerError{Index: i, Digest: layers[i].Descriptor().Digest,
					Err: &UnsafeNameError{Name: hdr.Name, Through: d}}
			}
			if target, opaque, ok := whiteout(hdr.Name); ok {
				flag := uint8(flagDeleted)
				if opaque {
					flag = flagOpaque
				}
				if target != "" && !t.set(target, 0, flag) {
					return limitErr(t.limit())
				}
				return nil
			}
			isDir := hdr.Typeflag == tar.TypeDir
			if t.hidden(hdr.Name, isDir) {
				t.shadow(hdr.Name, isDir)
				return nil
			}
			if !t.add(hdr.Name, isDir) {
				return limitErr(t.limit())
			}
			return fn(hdr, r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Flags of a path in the tracker.
const (
	flagSeen    = 1 << iota // reported
	flagNonDir              // reported, and not a directory
	flagImplied             // a directory, implied by a path under it
	flagDeleted             // deleted by a whiteout
	flagOpaque              // a directory whose lower contents are hidden
	flagShadow              // not reported (hidden), and not a directory
)

// pathState is what the layers read so far say of one path: the flags set
// by the layers above the current one, and those of layer 'layer'.
type pathState struct {
	above uint8
	here  uint8
	layer int32
}

// tracker applies whiteouts across layers read top first. Layer numbers
// count from 1 at the top.
type tracker struct {
	paths map[string]pathState
	layer int32
	max   int
	bytes int // estimated memory of paths
}

// Memory accounting of the tracker: each path costs its name and about
// pathOverhead bytes of map; all of them may cost bytesPerEntry times the
// entry limit.
const (
	pathOverhead  = 48
	bytesPerEntry = 128
)

// from returns the flags layers above the current one set on p.
func (t *tracker) from(p string) uint8 {
	s, ok := t.paths[p]
	if !ok {
		return 0
	}
	if s.layer < t.layer {
		return s.above | s.here
	}
	return s.above
}

// hidden reports whether an upper layer hides the entry name.
func (t *tracker) hidden(name string, isDir bool) bool {
	f := t.from(name)
	if f&(flagSeen|flagDeleted) != 0 || (f&flagImplied != 0 && !isDir) {
		return true
	}
	for p := name; p != "."; {
		p = path.Dir(p)
		if t.from(p)&(flagDeleted|flagOpaque|flagNonDir) != 0 {
			return true
		}
	}
	return false
}

// throughNonDir returns the directory of name that an earlier entry of the
// current layer made a non-directory, or "". Such an entry is no tree a
// runtime shows, and extracted naively, as Walk reports it, it would write
// through a symbolic link.
func (t *tracker) throughNonDir(name string) string {
	for p := name; ; {
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return ""
		}
		p = p[:i]
		if s, ok := t.paths[p]; ok && s.layer == t.layer && s.here&(flagNonDir|flagShadow) != 0 {
			return p
		}
	}
}

// shadow records that the current layer has a hidden entry at name, when
// name has a record already (an upper layer has it): throughNonDir needs
// to know of a hidden symbolic link as of a reported one.
func (t *tracker) shadow(name string, isDir bool) {
	if _, ok := t.paths[name]; !ok {
		return
	}
	if isDir {
		t.set(name, flagShadow, 0)
	} else {
		t.set(name, 0, flagShadow)
	}
}

// limit returns the error for a tracker that is full.
func (t *tracker) limit() error {
	if len(t.paths) < t.max {
		return &LimitError{What: "entry names", Limit: int64(t.max) * bytesPerEntry}
	}
	return &LimitError{What: "entries", Limit: int64(t.max)}
}

// set sets flags on p for the current layer; clear first clears those. It
// returns false when p is new and the tracker is full.
func (t *tracker) set(p string, clear, flags uint8) bool {
	s, ok := t.paths[p]
	if !ok {
		if len(t.paths) >= t.max || t.bytes+len(p)+pathOverhead > t.max*bytesPerEntry {
			return false
		}
		t.bytes += len(p) + pathOverhead
	}
	if s.layer != t.layer {
		s.above |= s.here
		s.here = 0
		s.layer = t.layer
	}
	s.here = s.here&^clear | flags
	t.paths[p] = s
	return true
}

// add records an entry of the current layer, and the directories it
// implies. It returns false when the tracker is full.
func (t *tracker) add(name string, isDir bool) bool {
	var flags uint8 = flagSeen
	if !isDir {
		flags |= flagNonDir
	}
	if !t.set(name, flagNonDir|flagShadow, flags) {
		return false
	}
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if s, ok := t.paths[p]; ok && s.layer == t.layer && s.here&flagImplied != 0 {
			break // and so are its parents
		}
		if !t.set(p, 0, flagImplied) {
			return false
		}
	}
	return true
}
