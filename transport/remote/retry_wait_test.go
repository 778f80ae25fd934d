package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// unavailable is a handler that always answers 503, and counts.
func unavailable(calls *atomic.Int32, header http.Header) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// TestRetryBackoffBounded checks that each wait stays under its ceiling,
// which doubles up to MaxBackoff, and that real waits are short.
func TestRetryBackoffBounded(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 7, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	mux, c := newMux(t, WithRetry(p))
	var calls atomic.Int32
	mux.Handle("HEAD /v2/demo/blobs/{d}", unavailable(&calls, nil))
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return sleepCtx(ctx, d)
	}
	start := time.Now()
	_, err := c.StatBlob(t.Context(), "demo", digest.FromString("x"))
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("StatBlob took %v", elapsed)
	}
	if err == nil || calls.Load() != 7 || len(waits) != 6 {
		t.Fatalf("StatBlob = %v after %d requests and waits %v; want a 503 after 7 and 6 waits", err, calls.Load(), waits)
	}
	for i, d := range waits {
		ceil := min(time.Millisecond<<i, 4*time.Millisecond)
		if d < 0 || d > ceil {
			t.Errorf("wait %d = %v, want at most %v", i, d, ceil)
		}
	}
	for attempt := range 40 {
		if d := (RetryPolicy{Backoff: time.Second, MaxBackoff: 5 * time.Second}).backoff(attempt + 1); d < 0 || d > 5*time.Second {
			t.Errorf("backoff(%d) = %v, want 0 to 5s", attempt+1, d)
		}
	}
}

// TestRetryWaitCanceled stops waiting when the context is done.
func TestRetryWaitCanceled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy RetryPolicy
		header http.Header
		calls  int32
	}{
		{name: "backoff", policy: RetryPolicy{Backoff: time.Hour, MaxBackoff: time.Hour}, calls: 1},
		{name: "Retry-After", policy: RetryPolicy{MaxWait: time.Hour}, header: http.Header{"Retry-After": {"3000"}}, calls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, c := newMux(t, WithRetry(tc.policy))
			var calls atomic.Int32
			ctx, cancel := context.WithCancel(t.Context())
			// Cancel once the 503 is answered, not at a fixed time from the
			// start: on a loaded machine the request itself may take longer.
			answer := unavailable(&calls, tc.header)
			mux.HandleFunc("HEAD /v2/demo/blobs/{d}", func(w http.ResponseWriter, r *http.Request) {
				answer.ServeHTTP(w, r)
				time.AfterFunc(100*time.Millisecond, cancel)
			})
			// The backoff is random: make it wait the longest.
			c.retry.Backoff, c.retry.MaxBackoff = time.Hour, time.Hour
			start := time.Now()
			_, err := c.StatBlob(ctx, "demo", digest.FromString("x"))
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("StatBlob took %v after the cancel", elapsed)
			}
			var re *ResponseError
			if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.StatusCode != 503 || IsRetryable(err) {
				t.Errorf("StatBlob = %v, want the 503 and context.Canceled", err)
			}
			if calls.Load() != tc.calls {
				t.Errorf("%d requests, want %d", calls.Load(), tc.calls)
			}
		})
	}
}

// TestRetryDeadline gives up at once when the wait would outlast the
// context's deadline.
func TestRetryDeadline(t *testing.T) {
	t.Parallel()
	mux, c := newMux(t, WithRetry(RetryPolicy{Backoff: time.Hour, MaxBackoff: time.Hour}))
	var calls atomic.Int32
	mux.Handle("HEAD /v2/demo/blobs/{d}", unavailable(&calls, nil))
	waits := fastSleep(c)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	// A random backoff can be short: try until one is long (nearly all).
	for range 5 {
		_, err := c.StatBlob(ctx, "demo", digest.FromString("x"))
		if err == nil || ctx.Err() != nil {
			t.Fatalf("StatBlob = %v (context %v)", err, ctx.Err())
		}
		if len(waits.get()) == 0 {
			if IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true after the client gave up", err)
			}
			return
		}
	}
	t.Errorf("waits %v with a deadline of a second and an hour of backoff", waits.get())
}

func TestRateLimitError(t *testing.T) {
	t.Parallel()
	mux, c := newMux(t)
	fastSleep(c)
	if _, _, ok := c.RateLimit(); ok {
		t.Error("RateLimit before any answer: ok")
	}
	var calls atomic.Int32
	mux.HandleFunc("GET /v2/library/ubuntu/manifests/{ref}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("RateLimit-Limit", "100;w=21600")
		if r.PathValue("ref") == "ok" {
			w.Header().Set("RateLimit-Remaining", "76;w=21600")
			w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
			io.WriteString(w, testManifestBody)
			return
		}
		w.Header().Set("RateLimit-Remaining", "0;w=21600")
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}`)
	})
	if _, _, err := c.GetManifest(t.Context(), "library/ubuntu", "ok"); err != nil {
		t.Fatal(err)
	}
	if l, r, ok := c.RateLimit(); l != 100 || r != 76 || !ok {
		t.Errorf("RateLimit() = %d, %d, %v; want 100, 76, true", l, r, ok)
	}
	before := time.Now()
	_, _, err := c.GetManifest(t.Context(), "library/ubuntu", "limited")
	var rl *transport.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("GetManifest = %T %v, want a *RateLimitError", err, err)
	}
	if rl.Limit != 100 || rl.Remaining != 0 {
		t.Errorf("Limit, Remaining = %d, %d; want 100, 0", rl.Limit, rl.Remaining)
	}
	if want := before.Add(2 * time.Hour); rl.RetryAt.Before(want.Add(-time.Second)) || rl.RetryAt.After(want.Add(5*time.Second)) {
		t.Errorf("RetryAt = %v, want about %v", rl.RetryAt, want)
	}
	var re *ResponseError
	if !errors.Is(err, transport.ErrTooManyRequests) || !errors.As(err, &re) || re.StatusCode != 429 || IsRetryable(err) {
		t.Errorf("GetManifest = %v: want ErrTooManyRequests, a 429 ResponseError, not retryable", err)
	}
	for _, want := range []string{"rate limited until", "(0 of 100 requests left)", "pull rate limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2 (no retry of a 2-hour wait)", calls.Load())
	}
	if l, r, ok := c.RateLimit(); l != 100 || r != 0 || !ok {
		t.Errorf("RateLimit() = %d, %d, %v; want 100, 0, true", l, r, ok)
	}
	bare := &transport.RateLimitError{Limit: -1, Remaining: -1}
	if bare.Error() != "rate limited" || !errors.Is(bare, transport.ErrTooManyRequests) || errors.Is(bare, transport.ErrDenied) {
		t.Errorf("bare RateLimitError: %q", bare.Error())
	}
}

func TestRateLimitHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  int
	}{
		{"100;w=21600", 100}, {"100", 100}, {" 7 ; w=60", 7}, {"", -1}, {"x", -1}, {"-3", -1},
	}
	for _, tc := range tests {
		if got := rateLimitHeader(http.Header{"Ratelimit-Limit": {tc.value}}, "RateLimit-Limit"); got != tc.want {
			t.Errorf("rateLimitHeader(%q) = %d, want %d", tc.value, got, tc.want)
		}
	}
}

// TestWithLogger logs requests and retries, and no credentials.
func TestWithLogger(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-token"
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	auth := WithMiddleware(func(_ string, next http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+secret)
			return next.RoundTrip(r)
		})
	})
	var failed atomic.Bool
	_, c := newTestReg(t, func(tr *testReg) {
		tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != "Bearer "+secret {
				t.Errorf("%s %s without the token", r.Method, r.URL)
			}
			if r.Method == http.MethodGet && failed.CompareAndSwap(false, true) {
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		}
	}, WithLogger(logger), auth)
	fastSleep(c)
	w, err := c.StartUpload(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	id := w.ID() + "&token=" + secret
	if _, err := c.ResumeUpload(t.Context(), "demo", id); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=DEBUG", `msg="regkit: http request"`, "request=\"POST http://", "status=202",
		"status=503", "attempt=2", "level=INFO", `msg="regkit: retrying"`, "token=REDACTED", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "_state=s") {
		t.Errorf("log shows a secret:\n%s", out)
	}
}

func TestWithRetryOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     Option
		want    RetryPolicy
		wantErr string
	}{
		{name: "defaults", opt: WithRetry(RetryPolicy{}), want: RetryPolicy{MaxAttempts: 4, Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxWait: time.Minute}},
		{name: "off", opt: WithRetry(RetryPolicy{MaxAttempts: 1}), want: RetryPolicy{MaxAttempts: 1, Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxWait: time.Minute}},
		{name: "long backoff", opt: WithRetry(RetryPolicy{Backoff: 10 * time.Second}), want: RetryPolicy{MaxAttempts: 4, Backoff: 10 * time.Second, MaxBackoff: 10 * time.Second, MaxWait: time.Minute}},
		{name: "negative", opt: WithRetry(RetryPolicy{MaxAttempts: -1}), wantErr: "negative"},
		{name: "negative wait", opt: WithRetry(RetryPolicy{MaxWait: -time.Second}), wantErr: "negative"},
		{name: "backoff above max", opt: WithRetry(RetryPolicy{Backoff: time.Second, MaxBackoff: time.Millisecond}), wantErr: "above MaxBackoff"},
		{name: "nil logger", opt: WithLogger(nil), wantErr: "WithLogger(nil)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New("r.example", tc.opt)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewClient = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.retry != tc.want {
				t.Fatalf("NewClient = %+v, %v; want %+v", c.retry, err, tc.want)
			}
		})
	}
	c, err := New("r.example")
	if err != nil || c.retry != (RetryPolicy{MaxAttempts: 4, Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxWait: time.Minute}) {
		t.Errorf("default policy = %+v, %v", c.retry, err)
	}
}

// unwrapping is a decorator of a Transport that follows the Unwrap
// convention of the transport package.
type unwrapping struct{ transport.Transport }

func (u unwrapping) Unwrap() transport.Transport { return u.Transport }

// TestRetry runs an operation again while it fails transiently, within
// the client's policy.
func TestRetry(t *testing.T) {
	t.Parallel()
	transient := &retryError{err: &ResponseError{StatusCode: 503}}
	tests := []struct {
		name     string
		errs     []error // what each run returns; nil then
		client   bool
		wrapped  bool // the client under a decorator with Unwrap
		wantRuns int
		wantErr  bool
		retry    bool // IsRetryable of the error returned
	}{
		{name: "succeeds", client: true, wantRuns: 1},
		{name: "transient twice", client: true, errs: []error{transient, transient}, wantRuns: 3},
		{name: "transient always", client: true, errs: []error{transient, transient, transient, transient, transient}, wantRuns: 4, wantErr: true},
		{name: "permanent", client: true, errs: []error{&ResponseError{StatusCode: 400}}, wantRuns: 1, wantErr: true},
		{name: "spent", client: true, errs: []error{&retryError{err: transient, spent: true}}, wantRuns: 1, wantErr: true},
		{name: "rate limited for long", client: true, errs: []error{&transport.RateLimitError{RetryAt: time.Now().Add(time.Hour), Err: &ResponseError{StatusCode: 429}}}, wantRuns: 1, wantErr: true},
		{name: "decorated client", client: true, wrapped: true, errs: []error{transient, transient}, wantRuns: 3},
		{name: "not a client", errs: []error{transient}, wantRuns: 1, wantErr: true, retry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New("r.example")
			if err != nil {
				t.Fatal(err)
			}
			waits := fastSleep(c)
			var tp transport.Transport = c
			switch {
			case tc.wrapped:
				tp = unwrapping{c}
			case !tc.client:
				tp = struct{ transport.Transport }{c}
			}
			runs := 0
			err = transport.Retry(t.Context(), tp, func() error {
				runs++
				if runs <= len(tc.errs) {
					return tc.errs[runs-1]
				}
				return nil
			})
			if runs != tc.wantRuns || (err != nil) != tc.wantErr {
				t.Errorf("Retry = %v after %d runs, want %d runs, error %v", err, runs, tc.wantRuns, tc.wantErr)
			}
			if err != nil && IsRetryable(err) != tc.retry {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, IsRetryable(err), tc.retry)
			}
			if tc.client && len(waits.get()) != max(tc.wantRuns-1, 0) {
				t.Errorf("waits %v for %d runs", waits.get(), runs)
			}
		})
	}
}

// TestRetryHonoursRateLimitOfStream waits as a 429 to a streamed request
// asks before the caller's next run.
func TestRetryHonoursRateLimitOfStream(t *testing.T) {
	t.Parallel()
	c, err := New("r.example")
	if err != nil {
		t.Fatal(err)
	}
	waits := fastSleep(c)
	runs := 0
	err = c.Retry(t.Context(), func() error {
		if runs++; runs == 1 {
			return &retryError{err: &transport.RateLimitError{Err: &ResponseError{StatusCode: 429}}, after: 3 * time.Second, hasAfter: true}
		}
		return nil
	})
	if err != nil || runs != 2 || len(waits.get()) != 1 || waits.get()[0] != 3*time.Second {
		t.Errorf("Retry = %v after %d runs, waits %v; want nil after 2 runs, one wait of 3s", err, runs, waits.get())
	}
	rl := &transport.RateLimitError{RetryAt: time.Now().Add(2 * time.Second), Err: &ResponseError{StatusCode: 429}}
	if d, ok := retryAfterOf(rl); !ok || d <= 0 || d > 2*time.Second {
		t.Errorf("retryAfterOf(RetryAt in 2s) = %v, %v", d, ok)
	}
}
