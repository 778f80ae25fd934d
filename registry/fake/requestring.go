package fake

import (
	"sync"

	"github.com/regkit/regkit/internal/backend"
)

// defaultRequestLog is how many requests the request log keeps by default.
const defaultRequestLog = 10_000

// WithRequestLog makes the request log ([Server.Requests]) keep the last n
// requests the server answered, dropping older ones; n < 0 turns it off,
// for a server that runs long or takes many requests. n == 0 means the
// default, for [Serve] and [NewServer] alike: 10,000, enough for a test, a
// few MiB for the requests of real clients, and under 45 MiB whatever the
// requests are (a [Request] holds at most 4 KiB of path).
func WithRequestLog(n int) ServerOption {
	return func(c *serverConfig) { c.logSize = backend.Setting(n, defaultRequestLog) }
}

// requestLog is a ring of the last size requests a server answered. Its
// zero value keeps nothing.
type requestLog struct {
	size int // the requests kept at most; 0: none

	mu      sync.Mutex
	entries []Request // at most size; once full, a ring starting at next
	next    int       // where the next entry goes once entries is full
}

func (l *requestLog) add(r Request) {
	if l.size <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) < l.size {
		l.entries = append(l.entries, r)
		return
	}
	l.entries[l.next] = r
	l.next = (l.next + 1) % l.size
}

// all returns the entries, oldest first.
func (l *requestLog) all() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) == 0 {
		return nil
	}
	out := make([]Request, 0, len(l.entries))
	out = append(out, l.entries[l.next:]...)
	return append(out, l.entries[:l.next]...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries, l.next = nil, 0
}
