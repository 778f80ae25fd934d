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
	"github.com/regkit/regkit/image/layer"
)

// Whiteout names of the OCI image spec (layer.md, "Whiteouts").
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// entryFunc is called for each entry of a layer, with its name cleaned
// (see cleanName). An error it returns stops the read and is returned as
// it is; errors of the layer itself come wrapped in a *LayerError.
type entryFunc func(hdr *tar.Header, r io.Reader) error

// userError marks an error of an entryFunc, so that readLayer does not
// wrap it in a *LayerError.
type userError struct{ err error }

func (e userError) Error() string { return e.err.Error() }

// readLayer opens layer index of the image and calls fn for each of its
// entries other than the root directory, in tar order.
func readLayer(ctx context.Context, l image.Blob, index int, o *options, fn entryFunc) (err error) {
	desc := l.Descriptor()
	defer func() {
		u, isUser := err.(userError)
		switch {
		case err == nil:
		case isUser:
			err = u.err
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		default:
			err = &LayerError{Index: index, Digest: desc.Digest, Err: err}
		}
	}()
	if _, err := layer.CompressionOf(desc.MediaType); err != nil {
		return err // before opening: no download for an artifact's blob
	}
	rc, err := l.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	zr, err := layer.Decompress(desc.MediaType, rc)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(&boundedReader{ctx: ctx, r: zr, limit: o.maxLayerSize})
	content := &contentReader{r: tr, limit: o.maxLayerSize}
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
		if len(hdr.Name) > maxPath || len(hdr.Linkname) > maxPath {
			// No filesystem holds such a path, and each level of a deep
			// name costs a lookup of the whole name: refused up front.
			return &fs.PathError{Op: "read tar entry", Path: truncate(hdr.Name), Err: ErrNameTooLong}
		}
		name, ok := cleanName(hdr.Name)
		if !ok {
			return &UnsafeNameError{Name: hdr.Name}
		}
		if name == "." {
			continue
		}
		if hdr.Typeflag == tar.TypeLink {
			link, ok := cleanName(hdr.Linkname)
			if !ok || link == "." {
				return &UnsafeNameError{Name: hdr.Name, Linkname: hdr.Linkname}
			}
			hdr.Linkname = link
		}
		hdr.Name = name
		if err := fn(hdr, content); err != nil {
			if content.err != nil {
				return err // the layer failed under fn
			}
			return userError{err}
		}
	}
}

// cleanName returns a tar entry name cleaned and relative to the root
// ("." for the root itself), and false when it climbs out of the root.
func cleanName(name string) (string, bool) {
	c := path.Clean(strings.TrimLeft(name, "/"))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}

// whiteout returns, for an entry named name (cleaned), the path it deletes
// and whether it is an opaque whiteout (then the path is the directory
// whose lower contents it hides). ok is false for an entry that is not a
// whiteout. A whiteout that names nothing (".wh.", ".wh..") gives ok and
// an empty target: it is hidden and does nothing.
func whiteout(name string) (target string, opaque, ok bool) {
	dir, base := path.Split(name)
	if !strings.HasPrefix(base, whiteoutPrefix) {
		return "", false, false
	}
	if base == opaqueWhiteout {
		return path.Clean(dir), true, true
	}
	base = base[len(whiteoutPrefix):]
	if base == "" || base == "." || base == ".." {
		return "", false, true
	}
	return path.Join(dir, base), false, true
}

// boundedReader reads r until its context ends or more than limit bytes
// (when limit > 0) have been read.
type boundedReader struct {
	ctx   context.Context
	r     io.Reader
	n     int64
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if b.limit > 0 {
		if b.n > b.limit {
			return 0, &LimitError{What: "layer size", Limit: b.limit}
		}
		if rest := b.limit - b.n + 1; int64(len(p)) > rest {
			p = p[:rest]
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.limit > 0 && b.n > b.limit {
		return 0, &LimitError{What: "layer size", Limit: b.limit}
	}
	return n, err
}

// contentReader reads the content of the current entry and remembers the
// first error other than io.EOF, which is the layer's, not the caller's.
// It counts what it reads against limit (when > 0) too: a sparse entry
// reads back longer than it is stored.
type contentReader struct {
	r     io.Reader
	err   error
	n     int64
	limit int64
}

func (c *contentReader) Read(p []byte) (int, error) {
	if c.limit > 0 && c.n+int64(len(p)) > c.limit {
		if c.n >= c.limit {
			p = p[:min(len(p), 1)] // one byte more tells EOF from too long
		} else {
			p = p[:c.limit-c.n]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.limit > 0 && c.n > c.limit {
		n, err = 0, &LimitError{What: "layer size", Limit: c.limit}
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// truncate shortens a name for an error message.
func truncate(name string) string {
	if len(name) > 64 {
		return name[:64] + "…"
	}
	return name
}
