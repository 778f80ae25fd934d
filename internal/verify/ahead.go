package verify

import (
	"hash"
	"sync"
)

// Blobs bigger than hashAheadMin are hashed on a goroutine of their own, so
// that hashing one chunk overlaps reading the next from the network. A
// 512 MiB pull straight from a registry on loopback took 0.63 s hashed
// inline and 0.55-0.59 s hashed ahead (medians of 5); where the client
// shares two cores with the registry and a proxy, it gains 4% at 512 MiB
// and loses 5-8% at 64 MiB, as the extra copy competes for the CPU. The
// cost is that copy (memmove is ten times faster than SHA-256) and
// aheadBufs × aheadBufSize bytes of buffers per blob in flight; 4 × 256 KiB
// was faster than 2 or 3 buffers, or buffers of 128 KiB. The buffers come
// from a pool and go back to it: on a virtual machine that maps memory
// lazily, the first write to each fresh page costs microseconds, which a
// new megabyte per blob paid every time.
const (
	hashAheadMin = 4 << 20
	aheadBufs    = 4
	aheadBufSize = copyBufSize // the buffers come from copyBufs
)

// hashAhead feeds copies of the bytes it is given to h on its own goroutine.
// write and finish are called by one goroutine at a time (the Reader's
// user); abort may be called from any goroutine, at any time, more than once.
type hashAhead struct {
	h    hash.Hash
	full chan []byte // chunks to hash; nil marks the end
	free chan []byte // buffers the hasher is done with
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	cur  []byte // the buffer being filled, not yet queued
}

func newHashAhead(h hash.Hash) *hashAhead {
	a := &hashAhead{
		h: h,
		// Room for every buffer and the end mark: a send never blocks.
		full: make(chan []byte, aheadBufs+1),
		free: make(chan []byte, aheadBufs),
		stop: make(chan struct{}),
	}
	for range aheadBufs {
		a.free <- copyBufs.Get().(*[copyBufSize]byte)[:]
	}
	a.wg.Go(a.run)
	return a
}

func (a *hashAhead) run() {
	for {
		select {
		case b := <-a.full:
			if b == nil {
				return
			}
			a.h.Write(b)
			a.free <- b[:cap(b)]
		case <-a.stop:
			return
		}
	}
}

// write copies p into buffers, queueing each once it is full (one hand-off
// per buffer, however small the reads), and waits for a free buffer while
// the hasher is behind. After abort it drops p: the hash is then
// incomplete, and so can never match.
func (a *hashAhead) write(p []byte) {
	for len(p) > 0 {
		if a.cur == nil {
			select {
			case a.cur = <-a.free:
				a.cur = a.cur[:0]
			case <-a.stop:
				return
			}
		}
		n := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur = a.cur[:len(a.cur)+n]
		p = p[n:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
}

// finish queues the last buffer, and returns when everything written has
// been hashed (or the hasher was aborted), and the goroutine has stopped.
func (a *hashAhead) finish() {
	if len(a.cur) > 0 {
		a.full <- a.cur
		a.cur = nil
	}
	a.full <- nil
	a.wg.Wait()
	a.recycle()
}

// recycle hands the buffers back to the pool once the hasher has stopped.
// A buffer still queued after an abort is never hashed, so it is free too.
// Only the goroutine that writes may call it (after finish, or after its
// own abort): an abort from another goroutine may come while write copies
// into the current buffer.
func (a *hashAhead) recycle() {
	if a.cur != nil {
		copyBufs.Put((*[copyBufSize]byte)(a.cur[:copyBufSize]))
		a.cur = nil
	}
	for _, ch := range []chan []byte{a.free, a.full} {
		for more := true; more; {
			select {
			case b := <-ch:
				if b != nil {
					copyBufs.Put((*[copyBufSize]byte)(b[:copyBufSize]))
				}
			default:
				more = false
			}
		}
	}
}

// aborted reports whether abort was called.
func (a *hashAhead) aborted() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

// abort stops the hasher without waiting for the rest of the chunks, and
// unblocks a write waiting for a buffer.
func (a *hashAhead) abort() {
	a.once.Do(func() { close(a.stop) })
	a.wg.Wait()
}
