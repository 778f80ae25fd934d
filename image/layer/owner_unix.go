//go:build unix

package layer

import (
	"io/fs"
	"syscall"
)

// owner returns the numeric owner and group of fi, or 0:0.
func owner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}
