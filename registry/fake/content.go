package fake

import (
	"errors"
	"io"
)

const (
	// chunkSize is the size of every chunk of a blob but its last.
	chunkSize = 1 << 20
	// firstChunk is the first allocation for content of unknown size; it
	// doubles up to chunkSize.
	firstChunk = 4 << 10
)

var (
	errReaderClosed = errors.New("read from closed blob reader")
	errSeekWhence   = errors.New("seek: invalid whence")
	errSeekNegative = errors.New("seek: negative position")
)

// content is the bytes of a blob as a list of chunks. Every chunk but the
// last holds exactly chunkSize bytes, so that growing never copies what is
// already stored (at most one partial chunk is reallocated) and an offset
// maps to its chunk by a division. Once published, content never changes,
// so readers need no lock.
type content struct {
	chunks [][]byte
	size   int64
}

// room returns the free space at the end of c, growing it if there is none.
// expect is how many more bytes are expected, or <= 0 if unknown; it sizes the
// allocation so that content of a known size is allocated exactly.
func (c *content) room(expect int64) []byte {
	n := len(c.chunks)
	if n > 0 {
		last := c.chunks[n-1]
		if len(last) < cap(last) {
			return last[len(last):cap(last)]
		}
		if len(last) < chunkSize { // a partial chunk: grow it, copying less than a chunk
			want := max(2*int64(cap(last)), int64(len(last))+expect)
			grown := make([]byte, len(last), min(want, chunkSize))
			copy(grown, last)
			c.chunks[n-1] = grown
			return grown[len(last):cap(grown)]
		}
	}
	size := int64(chunkSize)
	switch {
	case expect > 0:
		size = min(expect, chunkSize)
	case n == 0:
		size = firstChunk
	}
	chunk := make([]byte, 0, size)
	c.chunks = append(c.chunks, chunk)
	return chunk[:size]
}

// grew records that n bytes were written into the space room returned.
func (c *content) grew(n int) {
	last := len(c.chunks) - 1
	c.chunks[last] = c.chunks[last][:len(c.chunks[last])+n]
	c.size += int64(n)
}

// write appends p to c. How much more is to come is unknown: p is one
// write of a stream, so it must not size the chunks (32 KiB writes would
// otherwise grow every chunk by doubling, allocating each byte twice).
func (c *content) write(p []byte) {
	for len(p) > 0 {
		n := copy(c.room(0), p)
		c.grew(n)
		p = p[n:]
	}
}

// truncate drops the bytes of c after the first size, which is at most
// c.size. The space of the last chunk kept stays, for the bytes to come.
func (c *content) truncate(size int64) {
	keep := int((size + chunkSize - 1) / chunkSize)
	clear(c.chunks[keep:])
	c.chunks = c.chunks[:keep]
	if keep > 0 {
		c.chunks[keep-1] = c.chunks[keep-1][:size-int64(keep-1)*chunkSize]
	}
	c.size = size
}

// seal releases the unused capacity of the last chunk, copying at most one
// chunk. It is called before content is published.
func (c *content) seal() {
	n := len(c.chunks)
	if n == 0 {
		return
	}
	if last := c.chunks[n-1]; len(last) == 0 {
		c.chunks = c.chunks[:n-1]
	} else if cap(last) > len(last) {
		exact := make([]byte, len(last))
		copy(exact, last)
		c.chunks[n-1] = exact
	}
}

// each calls fn with the chunks of c from offset off on, until fn returns an
// error.
func (c *content) each(off int64, fn func([]byte) error) error {
	for off < c.size {
		chunk := c.chunks[off/chunkSize][off%chunkSize:]
		if err := fn(chunk); err != nil {
			return err
		}
		off += int64(len(chunk))
	}
	return nil
}

// blobReader reads published content. It implements [io.ReadSeekCloser]
// and [io.WriterTo].
type blobReader struct {
	data   *content
	off    int64
	closed bool
}

var (
	_ io.ReadSeekCloser = (*blobReader)(nil)
	_ io.WriterTo       = (*blobReader)(nil)
)

// Read reads the next bytes of the blob.
func (r *blobReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errReaderClosed
	}
	if r.off >= r.data.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := copy(p, r.data.chunks[r.off/chunkSize][r.off%chunkSize:])
	r.off += int64(n)
	return n, nil
}

// WriteTo writes the rest of the blob to w, chunk by chunk, with no copy.
func (r *blobReader) WriteTo(w io.Writer) (int64, error) {
	if r.closed {
		return 0, errReaderClosed
	}
	var total int64
	err := r.data.each(r.off, func(chunk []byte) error {
		n, err := w.Write(chunk)
		total += int64(n)
		r.off += int64(n)
		if err == nil && n < len(chunk) {
			err = io.ErrShortWrite
		}
		return err
	})
	return total, err
}

// Seek sets the offset of the next Read, as [io.Seeker] says. Seeking past
// the end is allowed; reads there return [io.EOF].
func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	if r.closed {
		return 0, errReaderClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.data.size
	default:
		return 0, errSeekWhence
	}
	if offset < 0 {
		return 0, errSeekNegative
	}
	r.off = offset
	return offset, nil
}

// Close ends reading; later calls fail.
func (r *blobReader) Close() error {
	r.closed = true
	return nil
}
