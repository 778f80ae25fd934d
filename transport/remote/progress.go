package remote

import (
	"context"
	"fmt"
	"github.com/regkit/regkit/internal/body"
	"io"
	"sync"
	"time"
)

// The progress a response body must make while the client waits on it.
const (
	// bodyStallWindow is the window over which a response body must deliver
	// bodyMinimum bytes, counting only the time the client spends
	// waiting in Read (a caller that reads slowly is no stall).
	bodyStallWindow = time.Minute
	// bodyMinimum is the least a body delivers in a window: a minute's
	// worth of the rate regkit's servers demand of request bodies.
	bodyMinimum = body.MinRate
)

// stallError is the error of a response body that delivered less than
// its minimum over a window of waiting. It is a timeout (a net.Error), so
// that the client retries the request when it may.
type stallError struct {
	got, need int64
	window    time.Duration
}

func (e *stallError) Error() string {
	return fmt.Sprintf("the registry stalled: the response delivered %d bytes in %v of waiting, less than %d", e.got, e.window, e.need)
}

// Timeout reports true: a stall is a timeout.
func (e *stallError) Timeout() bool { return true }

// Temporary reports true, as net.Error timeouts do.
func (e *stallError) Temporary() bool { return true }

// progressBody is a response body that must make progress: each window
// of d spent waiting in Read must bring need bytes, or the request is
// canceled (cancel) and reads fail with a *stallError.
type progressBody struct {
	rc     io.ReadCloser
	cancel context.CancelCauseFunc
	d      time.Duration
	need   int64

	mu      sync.Mutex
	got     int64         // bytes in the current window
	waited  time.Duration // time spent in Read in the current window
	since   time.Time     // when the pending Read, or its window, began
	timer   *time.Timer   // ends the window of the pending Read
	reading bool          // a Read is pending
	stalled *stallError
}

func newProgressBody(rc io.ReadCloser, cancel context.CancelCauseFunc, d time.Duration, need int64) *progressBody {
	return &progressBody{rc: rc, cancel: cancel, d: d, need: need}
}

func (b *progressBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.stalled != nil {
		b.mu.Unlock()
		return 0, b.stalled
	}
	b.reading, b.since = true, time.Now()
	if b.timer == nil {
		b.timer = time.AfterFunc(max(b.d-b.waited, 0), b.windowEnd)
	} else {
		b.timer.Reset(max(b.d-b.waited, 0))
	}
	b.mu.Unlock()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer.Stop()
	b.reading = false
	b.got += int64(n)
	b.waited += time.Since(b.since)
	if b.waited >= b.d && b.got >= b.need {
		b.got, b.waited = 0, 0 // the window delivered: start the next
	}
	if err != nil && err != io.EOF && b.stalled != nil {
		return n, b.stalled
	}
	return n, err
}

// windowEnd ends a window that ran out during a Read: the request is
// canceled if the window fell short, else the next window starts.
func (b *progressBody) windowEnd() {
	b.mu.Lock()
	if !b.reading { // the Read returned as the timer fired
		b.mu.Unlock()
		return
	}
	if left := b.d - b.waited - time.Since(b.since); left > 0 {
		// A stale firing: a Read returned (perhaps closing the window)
		// and the next one re-armed the timer before this ran.
		b.timer.Reset(left)
		b.mu.Unlock()
		return
	}
	if b.got >= b.need {
		b.got, b.waited, b.since = 0, 0, time.Now()
		b.timer.Reset(b.d)
		b.mu.Unlock()
		return
	}
	if b.stalled == nil {
		b.stalled = &stallError{got: b.got, need: b.need, window: b.d}
	}
	stalled := b.stalled
	b.mu.Unlock()
	b.cancel(stalled)
}

// Close closes the body and ends its request.
func (b *progressBody) Close() error {
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
