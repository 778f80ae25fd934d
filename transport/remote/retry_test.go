package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// sleeps records the waits of a client between attempts, which it makes
// return at once (or with the context's error).
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

// fastSleep replaces c's waits with a recorder that does not wait.
func fastSleep(c *Client) *sleeps {
	s := &sleeps{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		s.mu.Lock()
		s.ds = append(s.ds, d)
		s.mu.Unlock()
		return ctx.Err()
	}
	return s
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.ds...)
}

// hijack takes over the connection of w, for a handler that answers badly.
func hijack(t *testing.T, w http.ResponseWriter) net.Conn {
	t.Helper()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// reset closes conn with a TCP RST.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func TestRetryManifestGet(t *testing.T) {
	t.Parallel()
	body := []byte(testManifestBody)
	d := digest.FromBytes(body)
	// answer writes a failure for the n-th request (from 1), or reports
	// false to let the manifest be served.
	type answer func(t *testing.T, w http.ResponseWriter, n int) bool
	status := func(code int, header map[string]string, failures int) answer {
		return func(t *testing.T, w http.ResponseWriter, n int) bool {
			if failures >= 0 && n > failures {
				return false
			}
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(code)
			return true
		}
	}
	tests := []struct {
		name      string
		answer    answer
		policy    *RetryPolicy
		timeout   time.Duration
		wantCalls int32
		wantWaits []time.Duration // exact waits; nil: only their number
		waitsLen  int
		wantErr   error
		wantCode  int  // status of the ResponseError returned
		retryable bool // IsRetryable of the error
		rateLimit bool // the error is a *RateLimitError
	}{
		{name: "503 twice", answer: status(503, nil, 2), wantCalls: 3, waitsLen: 2},
		{name: "502 once", answer: status(502, nil, 1), wantCalls: 2, waitsLen: 1},
		{name: "504 once", answer: status(504, nil, 1), wantCalls: 2, waitsLen: 1},
		{name: "429 with Retry-After seconds", answer: status(429, map[string]string{"Retry-After": "7"}, 1),
			wantCalls: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "503 with Retry-After zero", answer: status(503, map[string]string{"Retry-After": "0"}, 1),
			wantCalls: 2, wantWaits: []time.Duration{0}},
		{name: "503 with a Retry-After date in the past", answer: status(503, map[string]string{"Retry-After": "Sun, 06 Nov 1994 08:49:37 GMT"}, 1),
			wantCalls: 2, wantWaits: []time.Duration{0}},
		{name: "503 always", answer: status(503, nil, -1), wantCalls: 4, waitsLen: 3, wantCode: 503},
		{name: "429 always", answer: status(429, nil, -1), wantCalls: 4, waitsLen: 3, wantCode: 429,
			wantErr: transport.ErrTooManyRequests, rateLimit: true},
		{name: "429 with a long Retry-After", answer: status(429, map[string]string{"Retry-After": "3600"}, -1),
			wantCalls: 1, waitsLen: 0, wantCode: 429, wantErr: transport.ErrTooManyRequests, rateLimit: true},
		{name: "503 with a Retry-After beyond the context", answer: status(503, map[string]string{"Retry-After": "30"}, -1),
			timeout: time.Minute / 2, policy: &RetryPolicy{MaxWait: time.Hour}, wantCalls: 1, waitsLen: 0, wantCode: 503},
		{name: "500", answer: status(500, nil, -1), wantCalls: 1, wantCode: 500},
		{name: "501", answer: status(501, nil, -1), wantCalls: 1, wantCode: 501},
		{name: "404", answer: status(404, nil, -1), wantCalls: 1, wantCode: 404, wantErr: transport.ErrManifestUnknown},
		{name: "400", answer: status(400, nil, -1), wantCalls: 1, wantCode: 400},
		{name: "403", answer: status(403, nil, -1), wantCalls: 1, wantCode: 403, wantErr: transport.ErrDenied},
		{name: "retries off", answer: status(503, nil, -1), policy: &RetryPolicy{MaxAttempts: 1},
			wantCalls: 1, wantCode: 503, retryable: true},
		{name: "two attempts", answer: status(503, nil, -1), policy: &RetryPolicy{MaxAttempts: 2},
			wantCalls: 2, waitsLen: 1, wantCode: 503},
		{name: "connection closed before the answer", answer: func(t *testing.T, w http.ResponseWriter, n int) bool {
			if n > 1 {
				return false
			}
			hijack(t, w).Close()
			return true
		}, wantCalls: 2, waitsLen: 1},
		{name: "connection reset", answer: func(t *testing.T, w http.ResponseWriter, n int) bool {
			if n > 2 {
				return false
			}
			reset(hijack(t, w))
			return true
		}, wantCalls: 3, waitsLen: 2},
		{name: "body cut short", answer: func(t *testing.T, w http.ResponseWriter, n int) bool {
			if n > 1 {
				return false
			}
			cutAfter(t, w, 200, http.Header{"Content-Type": {"application/vnd.oci.image.manifest.v1+json"}}, body, 10)
			return true
		}, wantCalls: 2, waitsLen: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tc.policy != nil {
				opts = append(opts, WithRetry(*tc.policy))
			}
			mux, c := newMux(t, opts...)
			waits := fastSleep(c)
			var calls atomic.Int32
			mux.HandleFunc("GET /v2/demo/manifests/v1", func(w http.ResponseWriter, r *http.Request) {
				if tc.answer(t, w, int(calls.Add(1))) {
					return
				}
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				w.Header().Set("Docker-Content-Digest", d.String())
				w.Write(body)
			})
			ctx := t.Context()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			desc, raw, err := c.GetManifest(ctx, "demo", "v1")
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("GetManifest: %d requests, want %d", got, tc.wantCalls)
			}
			got := waits.get()
			if tc.wantWaits != nil {
				if len(got) != len(tc.wantWaits) {
					t.Errorf("waits = %v, want %v", got, tc.wantWaits)
				}
				for i := range min(len(got), len(tc.wantWaits)) {
					if got[i] < tc.wantWaits[i]-time.Second || got[i] > tc.wantWaits[i] {
						t.Errorf("wait %d = %v, want about %v", i, got[i], tc.wantWaits[i])
					}
				}
			} else if len(got) != tc.waitsLen {
				t.Errorf("waits = %v, want %d of them", got, tc.waitsLen)
			}
			if tc.wantCode == 0 {
				if err != nil || desc.Digest != d || string(raw) != string(body) {
					t.Fatalf("GetManifest = %v, %q, %v; want %s", desc.Digest, raw, err, d)
				}
				return
			}
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != tc.wantCode {
				t.Fatalf("GetManifest = %v, want a %d answer", err, tc.wantCode)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("GetManifest = %v, want %v", err, tc.wantErr)
			}
			if got := IsRetryable(err); got != tc.retryable {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, got, tc.retryable)
			}
			var rl *transport.RateLimitError
			if errors.As(err, &rl) != tc.rateLimit {
				t.Errorf("GetManifest = %T %v, RateLimitError %v", err, err, tc.rateLimit)
			}
		})
	}
}

// TestRetryAfterDate honours a Retry-After given as an HTTP date.
func TestRetryAfterDate(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{name: "seconds", value: "120", want: 2 * time.Minute, ok: true},
		{name: "spaces", value: " 5 ", want: 5 * time.Second, ok: true},
		{name: "date", value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, ok: true},
		{name: "date passed", value: now.Add(-time.Hour).Format(http.TimeFormat), want: 0, ok: true},
		{name: "huge", value: "99999999999999", want: maxRetryAfter * time.Second, ok: true},
		{name: "negative", value: "-1"},
		{name: "garbage", value: "soon"},
		{name: "none", value: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := retryAfter(http.Header{"Retry-After": {tc.value}}, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.ok)
			}
		})
	}

	// End to end, with a date two seconds ahead (a date has whole seconds).
	mux, c := newMux(t)
	waits := fastSleep(c)
	var calls atomic.Int32
	mux.HandleFunc("HEAD /v2/demo/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Length", "3")
	})
	if _, err := c.StatBlob(t.Context(), "demo", digest.FromString("abc")); err != nil {
		t.Fatalf("StatBlob = %v", err)
	}
	if got := waits.get(); len(got) != 1 || got[0] < time.Second || got[0] > 3*time.Second {
		t.Errorf("waits = %v, want one of 1s to 3s", got)
	}
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	opErr := func(err error) error { return &net.OpError{Op: "read", Net: "tcp", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil},
		{name: "503", err: &ResponseError{StatusCode: 503}, want: true},
		{name: "429 wrapped", err: fmt.Errorf("get: %w", &transport.RateLimitError{Err: &ResponseError{StatusCode: 429}}), want: true},
		{name: "502", err: &ResponseError{StatusCode: 502}, want: true},
		{name: "504", err: &ResponseError{StatusCode: 504}, want: true},
		{name: "500", err: &ResponseError{StatusCode: 500}},
		{name: "404", err: &ResponseError{StatusCode: 404}},
		{name: "spent 503", err: &retryError{err: &ResponseError{StatusCode: 503}, spent: true}},
		{name: "unspent 503", err: &retryError{err: &ResponseError{StatusCode: 503}}, want: true},
		{name: "reset", err: opErr(syscall.ECONNRESET), want: true},
		{name: "refused", err: opErr(syscall.ECONNREFUSED), want: true},
		{name: "broken pipe", err: opErr(syscall.EPIPE), want: true},
		{name: "unexpected EOF", err: fmt.Errorf("read: %w", io.ErrUnexpectedEOF), want: true},
		{name: "EOF", err: io.EOF, want: true},
		{name: "closed", err: net.ErrClosed, want: true},
		{name: "timeout", err: &net.DNSError{Err: "timeout", IsTimeout: true}, want: true},
		{name: "no such host", err: &net.DNSError{Err: "no such host", IsNotFound: true}},
		{name: "dns other", err: &net.DNSError{Err: "bad"}},
		{name: "canceled", err: context.Canceled},
		{name: "deadline", err: fmt.Errorf("x: %w", context.DeadlineExceeded)},
		{name: "canceled during a wait", err: fmt.Errorf("%w; gave up: %w", &ResponseError{StatusCode: 503}, context.Canceled)},
		{name: "unknown authority", err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
		{name: "bad hostname", err: x509.HostnameError{Host: "x"}},
		{name: "not tls", err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}},
		{name: "size invalid", err: transport.Errorf(transport.CodeSizeInvalid, "short")},
		{name: "other", err: errors.New("boom")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := IsRetryable(tc.err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestRetryTLSError does not retry a certificate the client does not trust.
func TestRetryTLSError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake fails
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := New(strings.TrimPrefix(srv.URL, "https://"), WithTLS(TLSVerify))
	if err != nil {
		t.Fatal(err)
	}
	waits := fastSleep(c)
	_, err = c.StatBlob(t.Context(), "demo", digest.FromString("x"))
	if err == nil || IsRetryable(err) || len(waits.get()) != 0 || calls.Load() != 0 {
		t.Errorf("StatBlob = %v (retryable %v), waits %v, %d requests served; want a certificate error, no retry",
			err, IsRetryable(err), waits.get(), calls.Load())
	}
}

// TestRetryNotReplayed sends a streamed blob once, and retries only the
// requests that may be sent again.
func TestRetryNotReplayed(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("b", 3000)
	session := func(method string) func(string, string) bool {
		return func(m, uri string) bool { return m == method && strings.Contains(uri, "/blobs/uploads/") }
	}
	tests := []struct {
		name      string
		match     func(method, uri string) bool // the request that fails with 503 the first time
		blob      string
		opts      []Option
		wantCount int // requests that match
		wantErr   bool
	}{
		{name: "monolithic PUT", match: session("PUT"), blob: big, wantCount: 1, wantErr: true},
		{name: "PATCH", match: session("PATCH"), blob: big, opts: []Option{WithChunkSize(1000)}, wantCount: 1, wantErr: true},
		{name: "closing PUT", match: session("PUT"), blob: big, opts: []Option{WithChunkSize(1000)}, wantCount: 1, wantErr: true},
		{name: "POST of a session", match: func(m, uri string) bool { return m == "POST" && uri == "/v2/demo/blobs/uploads/" },
			blob: big, wantCount: 2},
		{name: "single POST", match: func(m, uri string) bool { return m == "POST" && strings.Contains(uri, "digest=") },
			blob: "small", opts: []Option{WithSinglePOSTMax(100)}, wantCount: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var failed atomic.Bool
			opts := append([]Option{WithSinglePOSTMax(-1)}, tc.opts...)
			tr, c := newTestReg(t, func(tr *testReg) {
				tr.selfMountErr = http.StatusMethodNotAllowed
				tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
					if tc.match(r.Method, r.URL.RequestURI()) && failed.CompareAndSwap(false, true) {
						io.Copy(io.Discard, r.Body)
						w.WriteHeader(http.StatusServiceUnavailable)
						return true
					}
					return false
				}
			}, opts...)
			fastSleep(c)
			desc := ocispec.Descriptor{Digest: digest.FromString(tc.blob), Size: int64(len(tc.blob))}
			err := c.PutBlob(t.Context(), "demo", desc, strings.NewReader(tc.blob))
			n := 0
			for _, l := range tr.requests() {
				method, uri, _ := strings.Cut(l, " ")
				if tc.match(method, uri) {
					n++
				}
			}
			if n != tc.wantCount {
				t.Errorf("%d matching requests, want %d", n, tc.wantCount)
			}
			if tc.wantErr {
				var re *ResponseError
				if !errors.As(err, &re) || re.StatusCode != 503 || !IsRetryable(err) {
					t.Fatalf("PutBlob = %v, want a retryable 503", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PutBlob = %v", err)
			}
			tr.mu.Lock()
			got := string(tr.blobs[desc.Digest])
			tr.mu.Unlock()
			if got != tc.blob {
				t.Errorf("stored %d bytes, want %d", len(got), len(tc.blob))
			}
		})
	}
}

// TestRetryManifestPut sends a manifest again after a 503 and a broken
// connection.
func TestRetryManifestPut(t *testing.T) {
	t.Parallel()
	var fails atomic.Int32
	tr, c := newTestReg(t, func(tr *testReg) {
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPut {
				return false
			}
			switch fails.Add(1) {
			case 1:
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			case 2:
				reset(hijack(t, w))
				return true
			}
			return false
		}
	})
	fastSleep(c)
	if _, err := c.PutManifest(t.Context(), "demo", "v1", "", []byte(testManifestBody), nil); err != nil {
		t.Fatalf("PutManifest = %v", err)
	}
	if n := countPrefixed(tr.requests(), "PUT /v2/demo/manifests/v1"); n != 3 {
		t.Errorf("%d PUTs, want 3", n)
	}
	tr.mu.Lock()
	m, _, ok := tr.resolve("demo", "v1")
	tr.mu.Unlock()
	if !ok || string(m.body) != testManifestBody {
		t.Errorf("stored %q, want the manifest", m.body)
	}
}
