package layer

import (
	"context"
	"errors"
	"io"
	"os"
)

// Spooled is a layer written to a temporary file, so that its descriptor is
// known before it is uploaded: give it to an image with
//
//	image.NewBlob(sp.Descriptor, sp.Open)
//
// and its diff_id to the image's config. Remove the file when done.
type Spooled struct {
	Info
	path string
}

// Spool encodes the layer into a new temporary file in dir (the system's
// temporary directory when dir is ""), in one pass, and returns it. On
// error no file is left behind.
func (l *Layer) Spool(ctx context.Context, dir string) (*Spooled, error) {
	f, err := os.CreateTemp(dir, "layer-*.tar")
	if err != nil {
		return nil, err
	}
	info, err := l.Encode(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errors.Join(err, os.Remove(f.Name()))
	}
	return &Spooled{Info: info, path: f.Name()}, nil
}

// Open returns a reader over the layer's bytes; the caller closes it. Its
// signature is that of image.OpenFunc.
func (s *Spooled) Open(ctx context.Context) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return os.Open(s.path)
}

// Path returns the name of the temporary file.
func (s *Spooled) Path() string { return s.path }

// Remove deletes the temporary file.
func (s *Spooled) Remove() error { return os.Remove(s.path) }
