//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package ocilayout

import "os"

// lockFile does nothing here: this system has no file lock this package
// uses, so only the Store's own locks order writes.
func lockFile(*os.File) error { return nil }

// unlockFile does nothing, as lockFile.
func unlockFile(*os.File) error { return nil }

// fileLocking is true where lockFile excludes other processes.
const fileLocking = false
