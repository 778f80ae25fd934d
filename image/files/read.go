package files

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/regkit/regkit/image"
)

// maxLinks is how many symbolic links a path may go through, and maxPath
// how long a path may grow following them, in bytes, as on Linux.
const (
	maxLinks = 40
	maxPath  = 4096
)

// ReadFile returns the content of the file at name in the image's
// filesystem, like [os.ReadFile]. name is taken from the image root ("/" and
// "./" in front are ignored). Symbolic links, in name's directories or at
// name itself, and hard links are followed inside the image, where an
// absolute target starts at the image root and ".." stops at it.
//
// ReadFile reads layers from the top of the image down and stops after the
// topmost layer that has name, or that hides it (by a whiteout, or by a
// non-directory in its path); it reads the rest of that layer, for a
// duplicate entry would win, and never reads the layers below. A file
// larger than [WithMaxFileSize] gives a [*LimitError]; stream it with [Walk].
//
// A missing path gives an [*fs.PathError] wrapping [fs.ErrNotExist]; a
// directory or a device one wrapping [ErrNotRegular]; a loop of links one
// wrapping [ErrTooManyLinks]; a path longer than 4096 bytes, as given or
// once links are followed, one wrapping [ErrNameTooLong]. Errors reading a
// layer are [*LayerError]s; a layer where name, or one of its directories,
// goes through a symbolic link made earlier in the same layer gives one
// wrapping an [*UnsafeNameError].
func ReadFile(ctx context.Context, img *image.Image, name string, opts ...Option) ([]byte, error) {
	o := makeOptions(opts)
	r, err := resolve(ctx, img.Layers(), name, &o, true)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if !isRegular(r.hdr) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrNotRegular}
	}
	return r.data, nil
}

// Lstat returns the tar header of the file at name in the image's
// filesystem, like [os.Lstat]: symbolic links in name's directories are
// followed, but one at name itself is returned as it is. It reads the
// layers as [ReadFile] does, without keeping any content. A directory that
// the image has only implicitly (files under it, no entry of its own) gets
// a header with mode 0755. Errors are as for ReadFile.
func Lstat(ctx context.Context, img *image.Image, name string, opts ...Option) (*tar.Header, error) {
	o := makeOptions(opts)
	r, err := resolve(ctx, img.Layers(), name, &o, false)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return r.hdr, nil
}

// found is what lookup finds of a path.
type found struct {
	hdr   *tar.Header // the path's entry; nil if the image does not have it
	data  []byte      // its content, if asked for and a regular file
	layer int         // the layer of hdr
	// via is the nearest directory of the path that is a symbolic link,
	// when it hides the path; link is its target.
	via, link string
}

// resolve finds name in layers, following links; read asks for the
// content, and for links at name itself to be followed.
func resolve(ctx context.Context, layers []image.Blob, name string, o *options, read bool) (found, error) {
	p := rooted(name)
	for hops := 0; ; hops++ {
		if hops > maxLinks {
			return found{}, ErrTooManyLinks
		}
		if len(p) > maxPath {
			return found{}, ErrNameTooLong
		}
		if err := ctx.Err(); err != nil {
			return found{}, err
		}
		if p == "." {
			return found{hdr: dirHeader(p)}, nil
		}
		f, err := lookup(ctx, layers, len(layers)-1, p, o, read)
		if err != nil {
			return found{}, err
		}
		switch {
		case f.via != "":
			p = rooted(path.Join(linkTarget(f.via, f.link), strings.TrimPrefix(p, f.via)))
		case f.hdr == nil:
			return found{}, fs.ErrNotExist
		case read && f.hdr.Typeflag == tar.TypeSymlink:
			p = rooted(linkTarget(p, f.hdr.Linkname))
		case read && f.hdr.Typeflag == tar.TypeLink:
			// A hard link shares the content of its target in the same
			// layer, whatever upper layers did with the target's path.
			t, err := lookup(ctx, layers, f.layer, f.hdr.Linkname, o, read)
			if err != nil {
				return found{}, err
			}
			if t.hdr == nil {
				return found{}, fs.ErrNotExist
			}
			return t, nil
		default:
			return f, nil
		}
	}
}

// rooted cleans a path given by a caller or a link: relative to the root,
// with ".." stopping at it ("." is the root).
func rooted(name string) string {
	if c := path.Clean("/" + name); c != "/" {
		return c[1:]
	}
	return "."
}

// linkTarget returns where a symbolic link at p, with target link, leads.
func linkTarget(p, link string) string {
	if path.IsAbs(link) {
		return link
	}
	return path.Join(path.Dir(p), link)
}

// dirHeader is the header of a directory the image has no entry for.
func dirHeader(name string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}
}

// under reports whether p is strictly under dir (dir "." holds everything).
func under(p, dir string) bool {
	if dir == "." {
		return p != "."
	}
	return len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir
}

// lookup finds the path p (cleaned, relative) in layers top down to 0,
// without following links, and with data when read is set. It stops after
// the first layer that has p or hides it. Its work per entry grows with the
// entry's name, not with the depth of p.
func lookup(ctx context.Context, layers []image.Blob, top int, p string, o *options, read bool) (found, error) {
	if len(p) > maxPath {
		return found{}, ErrNameTooLong
	}
	var ends []int // p's directories, from the root down, as p[:ends[j]]
	for j := 0; j < len(p); j++ {
		if p[j] == '/' {
			ends = append(ends, j)
		}
	}
	// dirIndex returns the j such that n is p[:ends[j]], or -1; below
	// returns how many of p's directories n is under.
	dirIndex := func(n string) int {
		if j := sort.SearchInts(ends, len(n)); j < len(ends) && ends[j] == len(n) && p[:len(n)] == n {
			return j
		}
		return -1
	}
	below := func(n string) int {
		c := 0
		for c < len(n) && c < len(p) && n[c] == p[c] {
			c++
		}
		return sort.SearchInts(ends, c)
	}
	upperDir := make([]bool, len(ends)) // p's directories, directories in an upper layer
	upperP := false                     // p, a directory in an upper layer
	for i := top; i >= 0; i-- {
		var (
			f       = found{layer: i}
			hides   bool                             // a whiteout hides p below
			nonDir  = make([]*tar.Header, len(ends)) // p's directories as non-directories here
			linkDir = make([]bool, len(ends))        // the same, even where an upper layer wins
			dirHere = make([]bool, len(ends))        // p's directories, directories here
			implied = 0                              // how many of p's directories are implied here
			pHere   bool                             // p, a directory here
		)
		// through refuses an entry that names p or one of its first k
		// directories after a non-directory of this layer in its path.
		through := func(hdr *tar.Header, k int) error {
			for j := 0; j < k; j++ {
				if linkDir[j] {
					return &LayerError{Index: i, Digest: layers[i].Descriptor().Digest,
						Err: &UnsafeNameError{Name: hdr.Name, Through: p[:ends[j]]}}
				}
			}
			return nil
		}
		err := readLayer(ctx, layers[i], i, o, func(hdr *tar.Header, r io.Reader) error {
			n := hdr.Name
			if t, opaque, ok := whiteout(n); ok {
				if t != "" && (t == p && !opaque || under(p, t)) {
					hides = true
				}
				return nil
			}
			isDir := hdr.Typeflag == tar.TypeDir
			if n == p {
				if err := through(hdr, len(ends)); err != nil {
					return err
				}
				if upperP && !isDir {
					return nil // an upper directory wins
				}
				f.hdr, f.data = hdr, nil
				if isDir {
					pHere = true
				}
				if read && isRegular(hdr) {
					if hdr.Size > o.maxFileSize {
						return &LimitError{What: "file size", Limit: o.maxFileSize}
					}
					// Grow with what arrives, not with what the header claims.
					var buf bytes.Buffer
					buf.Grow(int(min(hdr.Size, 64<<10)))
					if _, err := io.CopyN(&buf, r, hdr.Size); err != nil {
						return err
					}
					f.data = buf.Bytes()
				}
				return nil
			}
			if under(n, p) {
				pHere = true
			}
			implied = max(implied, below(n))
			if j := dirIndex(n); j >= 0 {
				if err := through(hdr, j); err != nil {
					return err
				}
				linkDir[j] = !isDir
				switch {
				case isDir:
					nonDir[j] = nil
					dirHere[j] = true
				case !upperDir[j]:
					nonDir[j] = hdr
				}
			}
			return nil
		})
		if err != nil {
			return found{}, err
		}
		if f.hdr != nil {
			return f, nil
		}
		for j, h := range nonDir {
			if h != nil {
				if h.Typeflag == tar.TypeSymlink {
					return found{via: p[:ends[j]], link: h.Linkname}, nil
				}
				return found{}, nil // not a directory: p does not exist
			}
		}
		if pHere || upperP {
			upperP = true
			if hides {
				return found{hdr: dirHeader(p)}, nil
			}
		} else if hides {
			return found{}, nil
		}
		for j := range upperDir {
			upperDir[j] = upperDir[j] || dirHere[j] || j < implied
		}
	}
	if upperP {
		return found{hdr: dirHeader(p)}, nil
	}
	return found{}, nil
}

// isRegular reports whether hdr is a file with content.
func isRegular(hdr *tar.Header) bool {
	return hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeGNUSparse
}
