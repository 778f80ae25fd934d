package fake

import (
	"time"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/transport"
)

// WithUploadExpiry makes an upload session expire once it has been idle
// for d: no request resumed it and no byte was written to it for that
// long. An expired session's bytes are released, and it is then unknown:
// requests to it fail with BLOB_UPLOAD_UNKNOWN (404 over HTTP), as for a
// session that never existed. d == 0 means the default, one hour, as in
// the ocilayout backend; d < 0 means sessions never expire.
//
// Expiry costs no goroutine: expired sessions are released when a session
// is started or resumed, and when [Store.Uploads] or [Store.UploadBytes]
// looks.
func WithUploadExpiry(d time.Duration) Option {
	return func(s *Store) { s.uploadExpiry = backend.Setting(d, backend.DefaultUploadExpiry) }
}

// WithMaxUploads bounds the number of upload sessions open at once at n.
// Beyond it, starting a session fails with TOOMANYREQUESTS (429 Too Many
// Requests over HTTP, with the OCI error body) until a session is
// committed, cancelled or expires. Single-request uploads (a PUT or POST
// with the digest) and mounts open no session and are not refused. n == 0
// means the default, 1000; n < 0 means no bound.
func WithMaxUploads(n int) Option {
	return func(s *Store) { s.maxUploads = backend.Setting(n, backend.DefaultMaxUploads) }
}

// WithMaxUploadBytes bounds the bytes all open upload sessions hold
// together at n. A write that would go beyond it fails with
// TOOMANYREQUESTS (429 over HTTP) and writes nothing; through
// [server.Handler] the whole chunk is refused and the session stays as
// it was. Bytes of committed blobs do not count. n == 0 means the
// default, no bound, as does n < 0.
func WithMaxUploadBytes(n int64) Option {
	return func(s *Store) { s.maxUploadBytes = backend.Setting(n, 0) }
}

// sweep releases the sessions idle for the expiry time or longer, from the
// least recently resumed on, and stops at the first one that is not. A
// session that a request is using (its lock is held) is not idle. The
// caller holds s.mu for writing.
//
// The list is ordered by when each session was put at its back; a session
// written to since then is put back with the time of its last write, which
// may leave the list slightly out of order: an expired session behind it
// then waits for a later sweep, and a request to it finds it expired
// anyway (see [Store.ResumeUpload]). Each session is looked at once at
// most, and the work is bounded by the sessions released or active since
// the last sweep.
func (s *Store) sweep(now time.Time) {
	if s.uploadExpiry <= 0 {
		return
	}
	for e := s.idle.Front(); e != nil; e = s.idle.Front() {
		u := e.Value.(*upload)
		if now.Sub(u.listed) < s.uploadExpiry {
			return
		}
		if !u.mu.TryLock() { // in use right now: not idle
			u.listed = now
			s.idle.MoveToBack(e)
			continue
		}
		if now.Sub(u.last) < s.uploadExpiry {
			u.listed = u.last
			s.idle.MoveToBack(e)
		} else {
			u.expire()
			s.forget(u)
		}
		u.mu.Unlock()
	}
}

// forget removes u from the open sessions. The caller holds s.mu for
// writing.
func (s *Store) forget(u *upload) {
	delete(s.uploads, u.id)
	if u.elem != nil {
		s.idle.Remove(u.elem)
		u.elem = nil
	}
}

// expire ends u as expired and releases its bytes. The caller holds u.mu
// and forgets u.
func (u *upload) expire() {
	u.done, u.expired = true, true
	data := u.release()
	data.drop()
}

// release takes the session's bytes from it and returns them, for the
// caller to publish or drop. The caller holds u.mu.
func (u *upload) release() content {
	data := u.data
	u.store.uploadBytes.Add(-data.size)
	u.data = content{}
	u.hash = nil
	return data
}

// idleFor reports whether u has been idle for the expiry time at now. The
// caller holds u.mu.
func (u *upload) idleFor(now time.Time) bool {
	return u.store.uploadExpiry > 0 && now.Sub(u.last) >= u.store.uploadExpiry
}

// tooManyUploadBytes is the error of a write refused by
// [WithMaxUploadBytes].
func tooManyUploadBytes(n int64) error {
	return transport.Errorf(transport.CodeTooManyRequests,
		"the open upload sessions would hold more than %d bytes, the most this registry allows: finish or cancel one, or try again later", n)
}
