package fake

import "syscall"

// madvPopulateWrite is Linux's MADV_POPULATE_WRITE (5.14 and later).
const madvPopulateWrite = 23

// prefault maps the pages of b, fresh memory for a blob's bytes, in one
// system call, rather than in one page fault per page as the bytes arrive:
// on a virtual machine a page fault can cost more than hashing the page
// (BenchmarkServerBlob's faults/op). It changes no byte of b. It is only a
// hint: an error (a kernel older than 5.14) is ignored.
func prefault(b []byte) {
	if len(b) >= 64<<10 {
		_ = syscall.Madvise(b, madvPopulateWrite)
	}
}
