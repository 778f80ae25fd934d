// Package body provides the request body of a blob upload that push and
// copy share: the blob's source opened on the first Read, and safe against
// the late Read of an HTTP transport.
package body

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// ErrClosed is what a Read of a closed [Lazy] gets. It matches
// [os.ErrClosed].
var ErrClosed = fmt.Errorf("read of an upload body after its upload ended: %w", os.ErrClosed)

// MinRate is the least a body must deliver, in bytes a minute, averaged
// over each window, for regkit's servers (request bodies) and its client
// (response bodies) alike: 1 KiB a minute, 17 bytes a second, a
// three-hundredth of a GPRS (2G) mobile link. A body that drips one byte a
// window would hold a connection forever under a rule that asks for any
// byte at all.
const MinRate = 1024

var _ io.ReadCloser = (*Lazy)(nil)

// Lazy is an upload body that opens its source on the first Read, so that a
// source the registry turns out not to need (it has the blob) is never
// opened.
//
// An HTTP transport may still read a request body, in a goroutine of its
// own, after the answer came: Read and Close take turns, and once Close has
// returned, Read fails with [ErrClosed] without opening anything. The first
// error of the source, io.EOF aside, sticks.
type Lazy struct {
	open   func() (io.ReadCloser, error)
	onRead func(from, to int64, err error)

	mu     sync.Mutex
	closed bool
	rc     io.ReadCloser // nil until the first Read
	n      int64         // bytes read
	err    error
}

// New returns a Lazy that opens its source with open, and calls onRead (if
// not nil) after each read of the source with the offsets of the bytes it
// read, [from, to), and its error. onRead runs with the Lazy locked: it must
// not call the Lazy's methods.
func New(open func() (io.ReadCloser, error), onRead func(from, to int64, err error)) *Lazy {
	return &Lazy{open: open, onRead: onRead}
}

// Read reads from the source, opening it first if needed.
func (l *Lazy) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	if l.rc == nil {
		rc, err := l.open()
		if err != nil {
			l.err = err
			return 0, err
		}
		l.rc = rc
	}
	n, err := l.rc.Read(p)
	from := l.n
	l.n += int64(n)
	if l.onRead != nil {
		l.onRead(from, l.n, err)
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// Close closes the source, if it was opened, waiting for a Read under way.
// Closing again does nothing. (A Read stalled on the source holds Close up
// until the source returns.)
func (l *Lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.rc == nil {
		return nil
	}
	return l.rc.Close()
}

// Opened reports whether the source was opened.
func (l *Lazy) Opened() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rc != nil
}

// N returns the number of bytes read from the source.
func (l *Lazy) N() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Err returns the first error of opening or reading the source, io.EOF
// aside; nil if none.
func (l *Lazy) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
