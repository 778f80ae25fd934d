package files

import (
	"archive/tar"
	"context"
	"fmt"
	"io"

	"github.com/regkit/regkit/image"
)

// Flatten writes the image's filesystem to w as one uncompressed tar, as
// `crane export` or `docker export` do: the files [Walk] reports, in that
// order (topmost layer first), with whiteouts applied and not written.
// Directories are written with a trailing slash. Extended attributes and
// other PAX records are kept; sparse files are written whole.
//
// Flatten streams: it holds no file content, and what Walk remembers. On
// error, w has a partial tar.
func Flatten(ctx context.Context, img *image.Image, w io.Writer, opts ...Option) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, 32<<10)
	err := Walk(ctx, img, func(hdr *tar.Header, r io.Reader) error {
		out := copyHeader(hdr)
		if err := tw.WriteHeader(out); err != nil {
			return fmt.Errorf("flatten %s: %w", hdr.Name, err)
		}
		if out.Size > 0 {
			// One buffer for all files: io.Copy would make one per file.
			if _, err := io.CopyBuffer(onlyWriter{tw}, r, buf); err != nil {
				return fmt.Errorf("flatten %s: %w", hdr.Name, err)
			}
		}
		return nil
	}, opts...)
	if err != nil {
		return err
	}
	return tw.Close()
}

// copyHeader returns a new header with the fields of hdr worth keeping, as
// archive/tar advises for headers read and written again.
func copyHeader(hdr *tar.Header) *tar.Header {
	out := &tar.Header{
		Typeflag: hdr.Typeflag,
		Name:     hdr.Name,
		Linkname: hdr.Linkname,
		Size:     hdr.Size,
		Mode:     hdr.Mode,
		Uid:      hdr.Uid,
		Gid:      hdr.Gid,
		Uname:    hdr.Uname,
		Gname:    hdr.Gname,
		ModTime:  hdr.ModTime,
		Devmajor: hdr.Devmajor,
		Devminor: hdr.Devminor,
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		out.Name += "/"
		out.Size = 0
	case tar.TypeGNUSparse:
		out.Typeflag = tar.TypeReg
	case tar.TypeReg:
	default:
		out.Size = 0 // links, devices and fifos have no content
	}
	for k, v := range hdr.PAXRecords {
		if !basicPAX[k] && !isSparsePAX(k) {
			if out.PAXRecords == nil {
				out.PAXRecords = map[string]string{}
			}
			out.PAXRecords[k] = v
		}
	}
	return out
}

// basicPAX are the PAX records that stand for Header fields: copyHeader
// sets the fields and drops the records, whose values may be stale.
var basicPAX = map[string]bool{
	"path": true, "linkpath": true, "size": true, "uid": true, "gid": true,
	"uname": true, "gname": true, "mtime": true, "atime": true, "ctime": true,
}

// isSparsePAX reports the records of a PAX sparse file, written whole.
func isSparsePAX(k string) bool {
	return len(k) > len("GNU.sparse.") && k[:len("GNU.sparse.")] == "GNU.sparse."
}

// onlyWriter hides the io.ReaderFrom of a tar.Writer, which would copy
// with a buffer of its own.
type onlyWriter struct{ io.Writer }
