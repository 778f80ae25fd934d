package auth

import "time"

// SetTransportClock makes tr read the time from now; for tests, before first use.
func SetTransportClock(tr *Transport, now func() time.Time) { tr.now = now }
