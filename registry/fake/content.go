package fake

import (
	"errors"
	"io"
	"runtime"
	"sync/atomic"
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

// content is the bytes of a blob: as a list of chunks while small, in a
// file in memory once larger than one chunk (see [files]). Every chunk but
// the last holds exactly chunkSize bytes, so that growing never copies what
// is already stored (at most one partial chunk is reallocated) and an
// offset maps to its chunk by a division. Once published, content never
// changes, so readers need no lock.
//
// A content with a file owns one hold of it: whoever drops the content
// calls [content.drop], and a reader holds it too while open.
type content struct {
	chunks [][]byte
	file   *memFile // the bytes, once in a file; then chunks is nil
	size   int64
	files  *files // where the bytes may move; nil: they stay in chunks
	noFile bool   // a file failed: the bytes stay in chunks
}

// inFile reports whether c keeps its bytes in a file, moving them there
// first when c holds, or expects to hold with expect more, more than
// files.spillAt bytes. The bytes stay in chunks where there is no file to
// make or one fails.
func (c *content) inFile(expect int64) bool {
	if c.file != nil {
		return true
	}
	if c.noFile || c.files == nil || c.files.spillAt < 0 ||
		(c.size < c.files.spillAt && c.size+max(expect, 0) <= c.files.spillAt) {
		return false
	}
	f := c.files.create()
	if f == nil {
		c.noFile = true
		return false
	}
	var off int64
	for _, chunk := range c.chunks {
		if err := f.writeAt(chunk, off); err != nil {
			f.release()
			c.noFile = true
			return false
		}
		off += int64(len(chunk))
	}
	c.file, c.chunks = f, nil
	return true
}

// appendFile writes p at the end of c, which is in a file. Where the file
// fails, its bytes move back to chunks, and p after them.
func (c *content) appendFile(p []byte) error {
	if err := c.file.writeAt(p, c.size); err != nil {
		if err := c.unspill(); err != nil {
			return err
		}
		c.write(p)
		return nil
	}
	c.size += int64(len(p))
	return nil
}

// unspill moves the bytes of c from its file back to chunks, for good.
func (c *content) unspill() error {
	var chunks [][]byte
	for off := int64(0); off < c.size; off += chunkSize {
		chunk := make([]byte, min(chunkSize, c.size-off))
		if _, err := c.file.f.ReadAt(chunk, off); err != nil {
			return err
		}
		chunks = append(chunks, chunk)
	}
	c.file.release()
	c.file, c.chunks, c.noFile = nil, chunks, true
	return nil
}

// hold adds a holder of c's file, if it has one: a reader, or a put that
// may publish c again.
func (c *content) hold() {
	if c.file != nil {
		c.file.acquire()
	}
}

// drop lets go of c: its file closes once no one else holds it.
func (c *content) drop() {
	if c.file != nil {
		c.file.release()
	}
}

// room returns the free space at the end of c, growing it if there is none.
// c keeps its bytes in chunks. expect is how many more bytes are expected,
// or <= 0 if unknown; it sizes the allocation so that content of a known
// size is allocated exactly.
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
// It fails, appending nothing, only when a failing file cannot be read
// back.
func (c *content) write(p []byte) error {
	if c.inFile(int64(len(p))) {
		return c.appendFile(p)
	}
	for len(p) > 0 {
		n := copy(c.room(0), p)
		c.grew(n)
		p = p[n:]
	}
	return nil
}

// truncate drops the bytes of c after the first size, which is at most
// c.size. The space of the last chunk kept stays, for the bytes to come.
func (c *content) truncate(size int64) {
	c.size = size
	if c.file != nil {
		c.file.truncate(size)
		return
	}
	keep := int((size + chunkSize - 1) / chunkSize)
	clear(c.chunks[keep:])
	c.chunks = c.chunks[:keep]
	if keep > 0 {
		c.chunks[keep-1] = c.chunks[keep-1][:size-int64(keep-1)*chunkSize]
	}
}

// seal releases the unused capacity of the last chunk, copying at most one
// chunk, or the bytes of a file beyond the content. It is called before
// content is published.
func (c *content) seal() {
	if c.file != nil {
		c.file.truncate(c.size)
		return
	}
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

// each calls fn with the bytes of c from offset off on, a chunk at a time,
// until fn returns an error. The bytes of a file are read into a buffer
// that is reused once fn returns.
func (c *content) each(off int64, fn func([]byte) error) error {
	if c.file != nil {
		buf := getBuf()
		defer putBuf(buf)
		for off < c.size {
			p := buf[:min(int64(len(buf)), c.size-off)]
			if _, err := c.file.f.ReadAt(p, off); err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
			off += int64(len(p))
		}
		return nil
	}
	for off < c.size {
		chunk := c.chunks[off/chunkSize][off%chunkSize:]
		if err := fn(chunk); err != nil {
			return err
		}
		off += int64(len(chunk))
	}
	return nil
}

// readAt reads the bytes of c at off, which is below c.size, into p, as
// many as it can: up to the end of p, of c, or of a chunk.
func (c *content) readAt(p []byte, off int64) (int, error) {
	if c.file != nil {
		return c.file.f.ReadAt(p[:min(int64(len(p)), c.size-off)], off)
	}
	return copy(p, c.chunks[off/chunkSize][off%chunkSize:]), nil
}

// blobReader reads published content. It implements [io.ReadSeekCloser]
// and [io.WriterTo].
type blobReader struct {
	data    *content // held by the reader until Close
	off     int64
	closed  atomic.Bool     // set once, by the first Close
	cleanup runtime.Cleanup // lets go of data's file if Close is never called
}

var (
	_ io.ReadSeekCloser = (*blobReader)(nil)
	_ io.WriterTo       = (*blobReader)(nil)
)

// Read reads the next bytes of the blob.
func (r *blobReader) Read(p []byte) (int, error) {
	if r.closed.Load() {
		return 0, errReaderClosed
	}
	if r.off >= r.data.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.data.readAt(p, r.off)
	r.off += int64(n)
	return n, err
}

// WriteTo writes the rest of the blob to w, chunk by chunk: with no copy
// when the blob is in chunks, through a reused buffer when in a file.
func (r *blobReader) WriteTo(w io.Writer) (int64, error) {
	if r.closed.Load() {
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
	if r.closed.Load() {
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
	if r.closed.CompareAndSwap(false, true) && r.data.file != nil {
		r.cleanup.Stop()
		r.data.drop()
	}
	return nil
}

// newBlobReader returns a reader of data, which the caller has held for it
// (see [content.hold]).
func newBlobReader(data *content) *blobReader {
	r := &blobReader{data: data}
	if data.file != nil {
		r.cleanup = runtime.AddCleanup(r, (*memFile).release, data.file)
	}
	return r
}
