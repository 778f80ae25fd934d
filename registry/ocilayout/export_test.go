package ocilayout

import "time"

// WithClock makes the Store read the time from now, for tests of expiry.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// FileLocking is true where Stores in different processes exclude one
// another.
const FileLocking = fileLocking

// WriteFile writes data at rel under dir, making its directories.
var WriteFile = writeFile
