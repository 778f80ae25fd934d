//go:build windows

package ocilayout

import (
	"os"
	"syscall"
	"unsafe"
)

// kernel32 is one of Windows' known DLLs, always loaded from the system
// directory.
var (
	kernel32         = syscall.NewLazyDLL("kernel32.dll")
	procLockFileEx   = kernel32.NewProc("LockFileEx")
	procUnlockFileEx = kernel32.NewProc("UnlockFileEx")
)

const lockfileExclusiveLock = 0x2 // LOCKFILE_EXCLUSIVE_LOCK

// lockFile takes an exclusive lock on the first byte of f, waiting for it.
// LockFileEx locks belong to the file handle, so two Stores of one process
// exclude each other as two processes do.
func lockFile(f *os.File) error {
	var ol syscall.Overlapped
	r, _, err := procLockFileEx.Call(f.Fd(), lockfileExclusiveLock, 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r == 0 {
		return err
	}
	return nil
}

// unlockFile releases the lock lockFile took.
func unlockFile(f *os.File) error {
	var ol syscall.Overlapped
	r, _, err := procUnlockFileEx.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r == 0 {
		return err
	}
	return nil
}

// fileLocking is true where lockFile excludes other processes.
const fileLocking = true
