package fake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// requestLogger is what the in-memory registry and the server share: a
// request log.
type requestLogger interface {
	Requests() []fake.Request
	ResetRequests()
}

// routes returns the method, route and status of the requests of log,
// sorted (a push uploads blobs in parallel), without the version checks
// (GET /v2/) of regkit's HTTP client, which stand for no call of the
// transport.
func routes(log []fake.Request) []string {
	var out []string
	for _, r := range log {
		if r.Route != fake.RoutePing {
			out = append(out, fmt.Sprintf("%s %s %d", r.Method, r.Route, r.Status))
		}
	}
	slices.Sort(out)
	return out
}

// TestMemoryRequestLogMatchesHTTP runs the same operations on the in-memory
// registry and on a server, through regkit's HTTP client, and expects the
// same requests in both logs: method, route and status.
func TestMemoryRequestLogMatchesHTTP(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, repo *repository.Repository, img *image.Image)
		op    func(t *testing.T, repo *repository.Repository, img *image.Image)
		want  []string // in memory and over HTTP, in any order
		// overHTTP are the requests the HTTP client adds: its one HEAD per
		// Client that learns what a 202 to a mount means (remote.PutBlob).
		overHTTP []string
	}{
		{
			name: "push",
			op:   push("v1"),
			want: []string{
				"HEAD manifest 404",                                     // is v1 there already?
				"POST upload 202", "POST upload 202", "POST upload 202", // two layers and the config: missing
				"PUT manifest 201",
				"PUT upload 201", "PUT upload 201", "PUT upload 201",
			},
			overHTTP: []string{"HEAD blob 404"}, // the bottom layer: a 202 means missing
		},
		{
			name:  "push again",
			setup: push("v1"),
			op:    push("v2"),
			want:  []string{"HEAD manifest 404", "POST upload 201", "POST upload 201", "POST upload 201", "PUT manifest 201"},
		},
		{
			name:  "pull",
			setup: push("v1"),
			op: func(t *testing.T, repo *repository.Repository, img *image.Image) {
				pullAndCheck(t, repo, "v1", img)
			},
			want: []string{"GET manifest 200", "GET blob 200", "GET blob 200", "GET blob 200"},
		},
		{
			name:  "list tags",
			setup: push("v1"),
			op: func(t *testing.T, repo *repository.Repository, img *image.Image) {
				for _, err := range repo.Tags(t.Context(), nil) {
					if err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []string{"GET tags 200"},
		},
		{
			name: "missing tag",
			op: func(t *testing.T, repo *repository.Repository, img *image.Image) {
				if _, err := repo.Tag("nope").Resolve(t.Context()); !errors.Is(err, transport.ErrNotFound) {
					t.Fatalf("Resolve = %v, want not found", err)
				}
			},
			want: []string{"HEAD manifest 404"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mem := fake.New()
			srv := fake.Serve(t)
			for _, b := range []struct {
				name string
				reg  *registry.Registry
				log  requestLogger
			}{{"in memory", mem.Registry, mem}, {"over HTTP", srv.Registry(), srv}} {
				repo := b.reg.Repository("app")
				img := testImage(t, "log")
				if tc.setup != nil {
					tc.setup(t, repo, img)
				}
				b.log.ResetRequests()
				tc.op(t, repo, img)
				want := slices.Clone(tc.want)
				if b.name == "over HTTP" {
					want = append(want, tc.overHTTP...)
				}
				slices.Sort(want)
				if got := routes(b.log.Requests()); !slices.Equal(got, want) {
					t.Errorf("%s: requests\n  %s\nwant\n  %s", b.name, strings.Join(got, ", "), strings.Join(want, ", "))
				}
			}
		})
	}
}

// push returns an operation pushing the image under tag.
func push(tag string) func(t *testing.T, repo *repository.Repository, img *image.Image) {
	return func(t *testing.T, repo *repository.Repository, img *image.Image) {
		t.Helper()
		if _, err := repo.Push(t.Context(), img, tag); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMemoryFaults injects faults into the in-memory registry and checks
// what regkit's model makes of them.
func TestMemoryFaults(t *testing.T) {
	tests := []struct {
		name    string
		fault   fake.Fault
		op      func(ctx context.Context, repo *repository.Repository, img *image.Image) error
		check   func(t *testing.T, err error)
		wantLog string // the logged request the fault fired on, as "METHOD route status"
	}{
		{
			name:  "503 on a blob GET",
			fault: fake.FailWith(503).On("GET", fake.RouteBlob).Times(1),
			op:    pull,
			check: func(t *testing.T, err error) {
				var re *remote.ResponseError
				if !errors.Is(err, transport.Code("UNAVAILABLE")) || !errors.As(err, &re) || re.StatusCode != 503 {
					t.Fatalf("error = %v, want a 503 UNAVAILABLE ResponseError", err)
				}
			},
			wantLog: "GET blob 503",
		},
		{
			name:    "404 on a manifest GET",
			fault:   fake.FailWith(404).On("GET", fake.RouteManifest),
			op:      pull,
			check:   wantErr(transport.ErrManifestUnknown),
			wantLog: "GET manifest 404",
		},
		{
			name:  "429 with Retry-After",
			fault: fake.FailWith(429).RetryAfter(3*time.Second).On("PUT", fake.RouteManifest),
			op:    pushOp,
			check: func(t *testing.T, err error) {
				var rl *transport.RateLimitError
				if !errors.As(err, &rl) || !errors.Is(err, transport.ErrTooManyRequests) {
					t.Fatalf("error = %v, want a RateLimitError", err)
				}
				// Within 3 s from now, and later than now: a loaded machine
				// may take a while between the fault and this check.
				if wait := time.Until(rl.RetryAt); wait <= 0 || wait > 3*time.Second {
					t.Fatalf("RetryAt in %v, want in (0, 3s]", wait)
				}
			},
			wantLog: "PUT manifest 429",
		},
		{
			name:    "flipped byte of a blob",
			fault:   fake.FlipByte(3).On("GET", fake.RouteBlob),
			op:      pull,
			check:   wantDigestError,
			wantLog: "GET blob 200",
		},
		{
			name:    "flipped byte of a manifest",
			fault:   fake.FlipByte(10).On("GET", fake.RouteManifest),
			op:      pull,
			check:   wantDigestError,
			wantLog: "GET manifest 200",
		},
		{
			name:    "truncated blob",
			fault:   fake.Truncate(5).On("GET", fake.RouteBlob).Times(1),
			op:      pull,
			check:   wantErr(io.ErrUnexpectedEOF),
			wantLog: "GET blob 200",
		},
		{
			name:    "dropped upload",
			fault:   fake.DropAfter(5).On("PUT", fake.RouteUpload),
			op:      pushOp,
			check:   wantErr(syscall.ECONNRESET),
			wantLog: "PUT upload 0", // no answer: the connection was reset
		},
		{
			name:    "flipped byte of an upload",
			fault:   fake.FlipByte(0).On("PUT", fake.RouteUpload),
			op:      pushOp,
			check:   wantErr(transport.ErrDigestInvalid),
			wantLog: "PUT upload 400",
		},
		{
			name:    "truncated upload chunk",
			fault:   fake.Truncate(2).On("PATCH", fake.RouteUpload),
			op:      writeChunk,
			check:   wantErr(io.ErrUnexpectedEOF),
			wantLog: "PATCH upload 400",
		},
		{
			name:    "503 on a chunk",
			fault:   fake.FailWith(503).On("PATCH", fake.RouteUpload).In("app"),
			op:      writeChunk,
			check:   wantErr(transport.Code("UNAVAILABLE")),
			wantLog: "PATCH upload 503",
		},
		{
			name:    "throttled blob",
			fault:   fake.Throttle(1<<20).On("GET", fake.RouteBlob),
			op:      pull,
			check:   wantErr(nil),
			wantLog: "GET blob 200",
		},
		{
			name:  "delay ended by the context",
			fault: fake.Delay(time.Hour).On("HEAD", fake.RouteManifest),
			op: func(ctx context.Context, repo *repository.Repository, img *image.Image) error {
				ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				_, err := repo.Tag("v1").Resolve(ctx)
				return err
			},
			check:   wantErr(context.DeadlineExceeded),
			wantLog: "HEAD manifest 0",
		},
		{
			name:  "fault in another repository",
			fault: fake.FailWith(500).In("other"),
			op:    pull,
			check: wantErr(nil),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := fake.New()
			repo := reg.Repository("app")
			img := testImage(t, "faults")
			if _, err := repo.Push(t.Context(), img, "v1"); err != nil {
				t.Fatal(err)
			}
			if tc.name == "dropped upload" || tc.name == "flipped byte of an upload" || tc.name == "429 with Retry-After" {
				img = testImage(t, "faults, again") // new blobs to upload
			}
			reg.SetFaults(tc.fault)
			reg.ResetRequests()
			start := time.Now()
			err := tc.op(t.Context(), repo, img)
			if time.Since(start) > 10*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
			tc.check(t, err)
			var faulted []string
			for _, r := range reg.Requests() {
				if r.Fault != "" {
					faulted = append(faulted, fmt.Sprintf("%s %s %d", r.Method, r.Route, r.Status))
					if r.Fault != tc.fault.String() {
						t.Errorf("logged fault %q, want %q", r.Fault, tc.fault)
					}
				}
			}
			if tc.wantLog == "" && len(faulted) > 0 || tc.wantLog != "" && (len(faulted) == 0 || faulted[0] != tc.wantLog) {
				t.Errorf("faulted requests %q, want first %q", faulted, tc.wantLog)
			}
		})
	}
}

// TestMemoryFaultTimes checks that a fault that fires once lets the next
// try through: the in-memory registry has no retry policy, so the first
// pull fails and the second succeeds.
func TestMemoryFaultTimes(t *testing.T) {
	reg := fake.New()
	repo := reg.Repository("app")
	img := testImage(t, "times")
	if _, err := repo.Push(t.Context(), img, "v1"); err != nil {
		t.Fatal(err)
	}
	reg.SetFaults(fake.FailWith(503).On("GET", fake.RouteBlob).Times(1))
	if err := pull(t.Context(), repo, img); !errors.Is(err, transport.Code("UNAVAILABLE")) {
		t.Fatalf("first pull: %v, want UNAVAILABLE", err)
	}
	if err := pull(t.Context(), repo, img); err != nil {
		t.Fatalf("second pull: %v", err)
	}
	reg.SetFaults()
}

// pull pulls v1 and reads every blob of it, verified.
func pull(ctx context.Context, repo *repository.Repository, _ *image.Image) error {
	got, err := repo.Tag("v1").Image(ctx)
	if err != nil {
		return err
	}
	for _, b := range got.Blobs() {
		rc, err := repo.Blob(ctx, b.Descriptor())
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeChunk writes to a new upload session of repo.
func writeChunk(ctx context.Context, repo *repository.Repository, _ *image.Image) error {
	w, err := repo.Transport().StartUpload(ctx, repo.Name())
	if err != nil {
		return err
	}
	defer w.Cancel(ctx)
	_, err = w.Write([]byte("hello"))
	return err
}

// pushOp pushes img as v2.
func pushOp(ctx context.Context, repo *repository.Repository, img *image.Image) error {
	_, err := repo.Push(ctx, img, "v2")
	return err
}

// wantErr checks that an error matches target (nil: no error).
func wantErr(target error) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if target == nil && err != nil || !errors.Is(err, target) {
			t.Fatalf("error = %v, want %v", err, target)
		}
	}
}

// wantDigestError checks that err says the bytes do not match their
// digest.
func wantDigestError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, transport.ErrDigestInvalid) || !strings.Contains(err.Error(), "hashes to") {
		t.Fatalf("error = %v, want a digest mismatch", err)
	}
}

// TestMemoryTransparent runs the behaviour suite against the transport of
// the in-memory registry, the Store behind its request log and fault
// injection, with no faults: it must behave as the Store does.
func TestMemoryTransparent(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) transport.Transport {
		reg := fake.New()
		if transport.Unwrap(reg.Transport()) != transport.Transport(reg.Store) {
			t.Fatal("the registry's transport does not unwrap to its Store")
		}
		return reg.Transport()
	})
}

// TestServerRegistry pushes and pulls through the registry a server hands
// out, with and without authentication.
func TestServerRegistry(t *testing.T) {
	tests := []struct {
		name     string
		opts     []fake.ServerOption
		regOpts  []registry.Option
		wantErr  error
		wantUser string
	}{
		{name: "no authentication"},
		{name: "basic auth, one user", opts: []fake.ServerOption{fake.WithBasicAuth(map[string]string{"alice": alicePassword})}, wantUser: "alice"},
		{name: "token auth, one user", opts: []fake.ServerOption{fake.WithTokenAuth(map[string]string{"alice": alicePassword})}, wantUser: "alice"},
		{name: "two users: anonymous", opts: []fake.ServerOption{fake.WithBasicAuth(map[string]string{"alice": alicePassword, "bob": "b"})}, wantErr: transport.ErrUnauthorized},
		{name: "chunked uploads", regOpts: []registry.Option{registry.WithClientOptions(remote.WithChunkSize(16))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, tc.opts...)
			repo := srv.Registry(tc.regOpts...).Repository("app")
			img := testImage(t, "server registry")
			_, err := repo.Push(t.Context(), img, "v1")
			if !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != nil {
				t.Fatalf("push: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			pullAndCheck(t, repo, "v1", img)
			for _, r := range srv.Requests() {
				if r.Route == fake.RouteManifest && r.Method == http.MethodPut && r.User != tc.wantUser {
					t.Errorf("manifest pushed as %q, want %q", r.User, tc.wantUser)
				}
			}
		})
	}
}

// TestFaultErrorsBothWays injects the same status faults in memory and
// over HTTP and expects errors of the same code both ways.
func TestFaultErrorsBothWays(t *testing.T) {
	tests := []struct {
		fault fake.Fault
		op    func(ctx context.Context, repo *repository.Repository, img *image.Image) error
		want  error
	}{
		{fake.FailWith(404).On("GET", fake.RouteBlob), pull, transport.ErrBlobUnknown},
		{fake.FailWith(404).On("GET", fake.RouteManifest), pull, transport.ErrManifestUnknown},
		{fake.FailWith(403).On("GET", ""), pull, transport.ErrDenied},
		{fake.FailWith(401).On("GET", fake.RouteManifest), pull, transport.ErrUnauthorized},
		{fake.FailWith(400).On("PUT", fake.RouteManifest), pushOp, transport.ErrManifestInvalid},
		{fake.FailWith(412).On("PUT", fake.RouteManifest), pushOp, transport.ErrPreconditionFailed},
		{fake.FailWith(405).On("DELETE", fake.RouteManifest), func(ctx context.Context, repo *repository.Repository, img *image.Image) error {
			return repo.Delete(ctx, img.Descriptor().Digest)
		}, transport.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.fault.String(), func(t *testing.T) {
			t.Parallel()
			mem := fake.New()
			srv := fake.Serve(t)
			for _, b := range []struct {
				name   string
				reg    *registry.Registry
				faults func(...fake.Fault)
			}{{"in memory", mem.Registry, mem.SetFaults}, {"over HTTP", srv.Registry(), srv.SetFaults}} {
				repo := b.reg.Repository("app")
				img := testImage(t, "both ways")
				if _, err := repo.Push(t.Context(), img, "v1"); err != nil {
					t.Fatal(err)
				}
				b.faults(tc.fault)
				if err := tc.op(t.Context(), repo, img); !errors.Is(err, tc.want) {
					t.Errorf("%s: error = %v, want %v", b.name, err, tc.want)
				}
			}
		})
	}
}
