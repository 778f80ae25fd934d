//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package ocilayout

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, waiting for it. flock(2) locks
// belong to the open file, so two Stores of one process exclude each other
// as two processes do.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// unlockFile releases the lock lockFile took.
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// fileLocking is true where lockFile excludes other processes.
const fileLocking = true
