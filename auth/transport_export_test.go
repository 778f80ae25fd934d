package auth

import "time"

// SetTransportClock makes tr read the time from now; for tests, before first use.
func SetTransportClock(tr *RoundTripper, now func() time.Time) { tr.now = now }

// SetTokenTimeout bounds tr's token requests by d; for tests, before first use.
func SetTokenTimeout(tr *RoundTripper, d time.Duration) { tr.tokenTimeout = d }

// SetLoginTimeout bounds each request of Login by d until the returned
// func restores the default; for tests that do not run in parallel.
func SetLoginTimeout(d time.Duration) (restore func()) {
	old := loginTimeout
	loginTimeout = d
	return func() { loginTimeout = old }
}
