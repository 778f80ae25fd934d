package ocilayout

import (
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

var _ transport.BlobTruncater = (*upload)(nil)

// Truncate drops the bytes of the session's file after the first size, so
// that the session holds what it held when its Size was size;
// [github.com/regkit/regkit/transport/server.Handler] calls it to undo a chunk it refuses. It fails with
// BLOB_UPLOAD_INVALID when size is negative or beyond Size, and with
// BLOB_UPLOAD_UNKNOWN once the session ended. The bytes kept are hashed
// again at Commit.
func (u *upload) Truncate(size int64) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return u.closedErr()
	}
	if size < 0 || size > u.size {
		return backend.TruncateInvalid(u.id, size, u.size)
	}
	if size == u.size {
		return nil
	}
	f, err := u.open()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("repository %q: %w", u.repo, err)
	}
	u.touch()
	u.size = size
	u.hash = nil // hashed again at Commit
	if size == 0 {
		u.hash = digest.SHA256.Hash()
	}
	return nil
}
