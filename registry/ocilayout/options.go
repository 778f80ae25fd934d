package ocilayout

import (
	"time"

	"github.com/regkit/regkit/internal/backend"
)

// Option configures a [Store] made by [NewStore] or [New].
type Option func(*options)

type options struct {
	expiry     time.Duration
	maxUploads int
	now        func() time.Time
}

func defaultOptions() options {
	return options{expiry: backend.DefaultUploadExpiry, maxUploads: backend.DefaultMaxUploads, now: time.Now}
}

// WithUploadExpiry sets how long an upload session may stay idle, with no
// byte written and no resume, before it expires: its temporary file is
// removed and its ID becomes unknown (BLOB_UPLOAD_UNKNOWN). Expired
// sessions are swept when a session starts or resumes, and temporary files
// older than d that a crash or another Store left in the directory are
// removed when the Store opens. d == 0 means the default, one hour, as in
// the in-memory fake; d < 0 means sessions never expire and temporary files
// are never reclaimed.
func WithUploadExpiry(d time.Duration) Option {
	return func(o *options) { o.expiry = backend.Setting(d, backend.DefaultUploadExpiry) }
}

// WithMaxUploads sets how many upload sessions may be open at once in the
// Store, over all repositories. Past it, [Store.StartUpload] (and the resume
// of a session that an earlier Store left) fails with an error matching
// [transport.ErrTooManyRequests], which [github.com/regkit/regkit/transport/server.Handler] answers with
// 429, until a session ends or expires. Sessions hold no open file between
// calls, so the bound is on disk entries and memory, not file descriptors.
// n == 0 means the default, 1000, as in the in-memory fake; n < 0 means no
// bound.
func WithMaxUploads(n int) Option {
	return func(o *options) { o.maxUploads = backend.Setting(n, backend.DefaultMaxUploads) }
}
