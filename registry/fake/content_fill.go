package fake

import (
	"hash"
	"io"
	"sync"
)

// gate is how a fill shares its content with others, if at all.
type gate interface {
	// Lock and Unlock guard the content; next and admit run under them.
	sync.Locker
	// next is called before each read: it returns how many more bytes are
	// expected (0 or less if unknown), or io.EOF to stop, or an error.
	next() (expect int64, err error)
	// admit is called after a read of n bytes, before they are stored: an
	// error refuses them and ends the fill.
	admit(n int64) error
	// unadmit undoes admit(n) for bytes that could not be stored.
	unadmit(n int64)
}

// fill reads r into c to its end, or until g stops it, and returns the
// bytes stored. Into chunks, r reads straight into c's free space, in
// reads as large as that space; into a file, it reads into a ring of
// reused buffers, each written to the file. When h is not nil, the bytes
// stored are hashed into it on a goroutine of their own while the next
// ones are read.
func (c *content) fill(r io.Reader, h hash.Hash, g gate) (int64, error) {
	var hs *hasher
	if h != nil {
		hs = startHasher(h)
	}
	ring := newRing()
	defer func() {
		hs.wait()
		ring.close()
	}()
	var total int64
	for {
		g.Lock()
		expect, err := g.next()
		var buf []byte
		inFile := false
		if err == nil {
			if inFile = c.inFile(expect); !inFile {
				buf = c.room(expect)
			}
		}
		g.Unlock()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if inFile {
			buf = ring.get()
		}
		if expect > 0 && int64(len(buf)) > expect {
			buf = buf[:expect]
		}

		// Until admitted, no one else changes c: buf stays its free space
		// (or the ring's buffer) while it is read into.
		n, rerr := r.Read(buf)
		if n > 0 {
			g.Lock()
			err := g.admit(int64(n))
			if err == nil {
				if inFile {
					if err = c.appendFile(buf[:n]); err != nil {
						g.unadmit(int64(n))
					}
				} else {
					c.grew(n)
				}
			}
			g.Unlock()
			if err != nil {
				if inFile {
					ring.free <- buf
				}
				return total, err
			}
			if inFile {
				hs.lend(buf[:n], ring.free)
			} else {
				hs.write(buf[:n]) // the bytes of a chunk never change once stored
			}
			total += int64(n)
		} else if inFile {
			ring.free <- buf
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}
