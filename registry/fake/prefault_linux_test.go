package fake

import (
	"runtime/debug"
	"syscall"
	"testing"
)

// TestContentPrefault checks that a chunk of a blob comes mapped: writing
// its bytes takes no page fault per page. It does not run in parallel, as
// page faults are counted for the whole process.
func TestContentPrefault(t *testing.T) {
	for _, expect := range []int64{chunkSize, 3 * chunkSize, 200 << 10} {
		debug.FreeOSMemory() // the chunk gets memory the runtime gave back
		var c content
		room := c.room(expect)
		var before, after syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		for i := range room {
			room[i] = byte(i)
		}
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		pages := len(room) / 4096
		if faults := after.Minflt - before.Minflt; faults > int64(pages/4) {
			t.Errorf("room(%d): writing %d pages took %d page faults, want at most %d", expect, pages, faults, pages/4)
		}
		c.grew(len(room))
	}
}
