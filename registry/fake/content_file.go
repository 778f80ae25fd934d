package fake

import (
	"io"
	"sync/atomic"
)

// Content that outgrows one chunk keeps its bytes in a file in memory (a
// memfd on Linux), written and read by the kernel from a few reused
// buffers, not in the Go heap. On some virtual machines the first write of
// a process to each fresh page of memory costs microseconds, which made a
// push of a large blob several times slower than hashing it; copies into
// and out of the kernel's pages cost no such thing. A file holds exactly
// the content's bytes, and is closed once neither its owner (an upload
// session, a put, the store) nor a reader needs it.

// blobFile is what content needs of a file; [*os.File] is one.
type blobFile interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Close() error
}

// files is where the contents of a Store keep their bytes once large.
type files struct {
	// spillAt is the size beyond which content moves to a file: 0 moves all
	// content, a negative value none.
	spillAt int64
	// open makes a new file; it fails where there is none to make.
	open func() (blobFile, error)
	// held is the bytes the open files hold together.
	held atomic.Int64
}

// memFile is the file of one content, and the count of its holders: its
// owner and its open readers. The last to let go closes it.
type memFile struct {
	f      blobFile
	files  *files
	length int64 // the file's size; changed by its owner only until published
	refs   atomic.Int64
}

// create returns a new file, held once, or nil if there is none to make.
func (fs *files) create() *memFile {
	if fs == nil || fs.open == nil {
		return nil
	}
	f, err := fs.open()
	if err != nil {
		return nil
	}
	m := &memFile{f: f, files: fs}
	m.refs.Store(1)
	return m
}

// writeAt writes p at off, as [io.WriterAt] says.
func (m *memFile) writeAt(p []byte, off int64) error {
	n, err := m.f.WriteAt(p, off)
	if end := off + int64(n); end > m.length {
		m.files.held.Add(end - m.length)
		m.length = end
	}
	return err
}

// truncate makes the file size bytes long.
func (m *memFile) truncate(size int64) {
	if size == m.length || m.f.Truncate(size) != nil {
		return // a file that keeps more holds bytes no one reads
	}
	m.files.held.Add(size - m.length)
	m.length = size
}

// acquire adds a holder.
func (m *memFile) acquire() { m.refs.Add(1) }

// release removes a holder, closing the file after the last one.
func (m *memFile) release() {
	if m.refs.Add(-1) == 0 {
		_ = m.f.Close()
		m.files.held.Add(-m.length)
	}
}

const (
	// bufSize is the size of the buffers through which bytes go into
	// and out of files: a request body fills one in a single read when
	// the bytes come faster than they are stored, and few system calls
	// are made. (256 KiB buffers, which stay in the processor's cache,
	// measured no faster.)
	bufSize = 1 << 20
	// ringSize is the number of buffers one read of a stream into a file
	// lends out at once: to the read, and to the hasher behind it.
	ringSize = 4
)

// bufs keeps a few buffers of bufSize bytes, whose memory is touched
// already, for reads into and out of files.
var bufs = make(chan []byte, 2*ringSize)

// getBuf returns a buffer of bufSize bytes.
func getBuf() []byte {
	select {
	case b := <-bufs:
		return b
	default:
		return make([]byte, bufSize)
	}
}

// putBuf gives back a buffer of getBuf.
func putBuf(b []byte) {
	select {
	case bufs <- b[:bufSize]:
	default:
	}
}

// ring is the buffers of one stream read into a file: each goes from the
// read to the file and to the hasher, which gives it back to free.
type ring struct {
	free chan []byte
	n    int // buffers taken from bufs
}

func newRing() *ring { return &ring{free: make(chan []byte, ringSize)} }

// get returns a free buffer, waiting for the hasher to give one back when
// all are lent out.
func (r *ring) get() []byte {
	select {
	case b := <-r.free:
		return b[:bufSize]
	default:
	}
	if r.n < ringSize {
		r.n++
		return getBuf()
	}
	return (<-r.free)[:bufSize]
}

// close gives the buffers back to bufs, once all are back in free.
func (r *ring) close() {
	for range r.n {
		putBuf(<-r.free)
	}
}
