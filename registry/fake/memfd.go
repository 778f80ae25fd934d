//go:build linux && (amd64 || arm64)

package fake

import (
	"os"
	"syscall"
	"unsafe"
)

// mfdCloexec is memfd_create's MFD_CLOEXEC flag.
const mfdCloexec = 1

// openMemfd returns a new anonymous file in memory (memfd_create), that
// holds the bytes of one blob. It fails where the kernel has no
// memfd_create (ENOSYS) or the process no file descriptor left (EMFILE).
func openMemfd() (blobFile, error) {
	name, err := syscall.BytePtrFromString("regkit-blob")
	if err != nil {
		return nil, err
	}
	fd, _, errno := syscall.Syscall(sysMemfdCreate, uintptr(unsafe.Pointer(name)), mfdCloexec, 0)
	if errno != 0 {
		return nil, errno
	}
	return os.NewFile(fd, "memfd:regkit-blob"), nil
}
