package layer

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// File is one entry of a layer made by [FromFiles].
type File struct {
	// Name is the entry's path in the image, relative to its root
	// ("usr/bin/app"); it is cleaned ("a/./b" is "a/b"). Absolute names
	// and names that lead out through ".." are refused.
	Name string
	// Mode is the entry's type and permissions: a regular file when no
	// type bit is set, fs.ModeDir for a directory, fs.ModeSymlink for a
	// symbolic link. The permission bits are stored as given (0 is 0), with
	// setuid, setgid and sticky.
	Mode fs.FileMode
	// UID and GID are the entry's numeric owner and group.
	UID, GID int
	// Content is a regular file's content.
	Content []byte
	// Linkname is a symbolic link's target, stored as given: it may be
	// absolute, since it is resolved inside the container.
	Linkname string
}

// FromFiles returns a layer of files, with their directories and links as
// listed: a directory a file is in need not be listed (runtimes create it),
// but list it to set its mode or owner. Entries are sorted by path; two
// entries of the same path are refused with [ErrDuplicate], as are bad
// names (see [File.Name]), when the layer is encoded.
func FromFiles(files []File, opts ...Option) *Layer {
	files = slices.Clone(files)
	return &Layer{o: newOptions(opts), entries: func(ctx context.Context, tw *tar.Writer, o *options) error {
		type entry struct {
			name string
			f    *File
		}
		es := make([]entry, len(files))
		for i := range files {
			name, err := cleanName(files[i].Name)
			if err == nil && name == "." {
				err = ErrEmptyPath
			}
			if err != nil {
				return &EntryError{Name: files[i].Name, Err: err}
			}
			es[i] = entry{name, &files[i]}
		}
		// The order of a walk: a directory's entries right after it.
		slices.SortFunc(es, func(a, b entry) int { return strings.Compare(walkKey(a.name), walkKey(b.name)) })
		for i, e := range es {
			if i > 0 && es[i-1].name == e.name {
				return &EntryError{Name: e.f.Name, Err: ErrDuplicate}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			f := e.f
			h := &tar.Header{
				Name: e.name, Mode: tarMode(f.Mode), Uid: f.UID, Gid: f.GID,
				ModTime: o.mtime, Format: tar.FormatPAX,
			}
			switch f.Mode.Type() {
			case 0:
				h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Content))
			case fs.ModeDir:
				h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
			case fs.ModeSymlink:
				h.Typeflag, h.Linkname = tar.TypeSymlink, f.Linkname
			default:
				return &EntryError{Name: f.Name, Err: ErrUnsupportedType}
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if h.Typeflag == tar.TypeReg {
				if _, err := tw.Write(f.Content); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// copyBuffer is the size of the buffer a layer's file contents are copied
// through, one for each encoding.
const copyBuffer = 64 << 10

// walkKey orders paths as [fs.WalkDir] visits them: "a", "a/b", "a.txt".
func walkKey(name string) string { return strings.ReplaceAll(name, "/", "\x00") }

// FromDir returns a layer of the files under dir (dir itself is the
// layer's root and is not an entry), read when the layer is encoded, each
// file once. Entries come in the order [fs.WalkDir] visits them; modes are
// copied from disk (unless [WithNormalModes] is given), times are not (see
// [Layer]). Symbolic links are stored as links
// and never followed, and no file outside dir is opened (the walk goes
// through an [os.Root]). Hard links are stored as separate regular files,
// each with its content. Devices, sockets and named pipes are refused with
// [ErrUnsupportedType].
func FromDir(dir string, opts ...Option) *Layer {
	return &Layer{o: newOptions(opts), entries: func(ctx context.Context, tw *tar.Writer, o *options) error {
		root, err := os.OpenRoot(dir)
		if err != nil {
			return err
		}
		defer root.Close()
		return walk(ctx, tw, root.FS(), o)
	}}
}

// FromFS returns a layer of the files of fsys, as [FromDir] does for a
// directory. Symbolic links need an fsys that implements [fs.ReadLinkFS]
// (os.DirFS does; an [fstest.MapFS] does too).
func FromFS(fsys fs.FS, opts ...Option) *Layer {
	return &Layer{o: newOptions(opts), entries: func(ctx context.Context, tw *tar.Writer, o *options) error {
		return walk(ctx, tw, fsys, o)
	}}
}

// walk writes the files of fsys to tw.
func walk(ctx context.Context, tw *tar.Writer, fsys fs.FS, o *options) error {
	buf := make([]byte, copyBuffer)
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h := &tar.Header{Name: name, Mode: tarMode(fi.Mode()), ModTime: o.mtime, Format: tar.FormatPAX}
		if o.hostOwners {
			h.Uid, h.Gid = owner(fi)
		}
		if o.normalModes {
			h.Mode = normalMode(fi.Mode())
		}
		switch fi.Mode().Type() {
		case 0:
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		case fs.ModeDir:
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		case fs.ModeSymlink:
			if h.Linkname, err = fs.ReadLink(fsys, name); err != nil {
				return err
			}
			h.Typeflag = tar.TypeSymlink
		default:
			return &EntryError{Name: name, Err: ErrUnsupportedType}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := fsys.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.CopyBuffer(tw, io.LimitReader(f, h.Size), buf)
		if err == nil && n < h.Size {
			err = fmt.Errorf("%s shrank while it was read", name)
		}
		return err
	})
}

// FromTar returns a layer of the entries of the tar stream r, in their
// order, made reproducible: names cleaned, every entry given the layer's
// modification time, access and change times and user and group names
// dropped, PAX records other than extended attributes (SCHILY.xattr.)
// dropped. Numeric owners, modes, link targets and contents are kept. A
// root entry ("./") is left out. Entries with absolute names, or names or
// hard link targets that lead out through "..", are refused with an
// [*EntryError]. The stream is read when the layer is encoded: such a
// layer can be encoded once.
//
// The entry types kept are those a container runtime unpacks: regular
// files, directories, symbolic and hard links, character and block
// devices and named pipes (a base filesystem's /dev has devices, so a tar
// may carry them, though [FromDir] refuses them on disk). A GNU sparse
// file is stored as the regular file it reads as; PAX global headers are
// dropped. Any other type (a contiguous file, a type letter this package
// does not know) is refused with an [*EntryError] whose reason is
// [ErrUnsupportedType].
func FromTar(r io.Reader, opts ...Option) *Layer {
	return &Layer{o: newOptions(opts), once: true, entries: func(ctx context.Context, tw *tar.Writer, o *options) error {
		tr := tar.NewReader(r)
		buf := make([]byte, copyBuffer)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if hdr.Typeflag == tar.TypeXGlobalHeader {
				continue
			}
			name, err := cleanName(hdr.Name)
			if err != nil {
				return &EntryError{Name: hdr.Name, Err: err}
			}
			if name == "." {
				continue
			}
			h := &tar.Header{
				Typeflag: hdr.Typeflag, Name: name, Linkname: hdr.Linkname, Size: hdr.Size,
				Mode: hdr.Mode, Uid: hdr.Uid, Gid: hdr.Gid, Devmajor: hdr.Devmajor, Devminor: hdr.Devminor,
				ModTime: o.mtime, Format: tar.FormatPAX,
			}
			switch hdr.Typeflag {
			case tar.TypeReg, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			case tar.TypeRegA, tar.TypeGNUSparse:
				// archive/tar expands a sparse file: its holes read as zeros.
				h.Typeflag = tar.TypeReg
			case tar.TypeDir:
				h.Name += "/"
			case tar.TypeSymlink:
			case tar.TypeLink:
				target, err := cleanName(hdr.Linkname)
				if err == nil && target == "." {
					err = ErrPathEscapes
				}
				if err != nil {
					return &EntryError{Name: hdr.Name, Err: fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)}
				}
				h.Linkname = target
			default:
				return &EntryError{Name: hdr.Name, Err: fmt.Errorf("%w: tar type %q", ErrUnsupportedType, hdr.Typeflag)}
			}
			if h.Typeflag != tar.TypeReg {
				h.Size = 0
			}
			for k, v := range hdr.PAXRecords {
				if strings.HasPrefix(k, "SCHILY.xattr.") {
					if h.PAXRecords == nil {
						h.PAXRecords = map[string]string{}
					}
					h.PAXRecords[k] = v
				}
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := io.CopyBuffer(tw, tr, buf); err != nil {
				return err
			}
		}
	}}
}

// cleanName returns name cleaned and relative, "." for the root, or the
// reason it is refused.
func cleanName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", ErrAbsolutePath
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", ErrPathEscapes
	}
	return c, nil
}

// tarMode returns the tar mode of m: permissions, setuid, setgid, sticky.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// normalMode returns the mode [WithNormalModes] gives an entry of mode m.
func normalMode(m fs.FileMode) int64 {
	switch {
	case m.Type() == fs.ModeSymlink:
		return 0o777
	case m.IsDir(), m.Perm()&0o111 != 0:
		return 0o755
	}
	return 0o644
}
