package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// faultTarget is the requests of an operation a fault goes to: on the
// source server or the destination, by method ("" any) and route.
type faultTarget struct {
	dst    bool
	method string
	route  fake.Route
}

// faultEnv is what an operation of the fault table works on: the source
// registry and, for copies, a destination one (otherwise the same).
type faultEnv struct {
	src, dst         *fake.Server
	srcRepo, dstRepo *repository.Repository
	v1, v2           *image.Image
}

// faultOp is an operation of the fault table.
type faultOp struct {
	name string
	// says is what the error of a failed operation names it by.
	says string
	// statusAt and bodyAt are where status faults and body faults go.
	statusAt, bodyAt []faultTarget
	// setup prepares the registries, before any fault.
	setup func(t *testing.T, e *faultEnv)
	// run is the operation, under faults.
	run func(ctx context.Context, e *faultEnv) error
	// check verifies, with the faults gone, what the registries hold after
	// the operation, which failed with opErr (nil: it succeeded).
	check func(ctx context.Context, e *faultEnv, opErr error) error
}

// faultKind is a fault of the table, made for the targets of an operation.
type faultKind struct {
	name  string
	body  bool // goes to bodyAt, not statusAt
	every bool // goes to every request of both servers
	fault fake.Fault
}

var faultKinds = []faultKind{
	{name: "503 once", fault: fake.FailWith(503).Times(1)},
	{name: "429 Retry-After once", fault: fake.FailWith(429).RetryAfter(time.Second).Times(1)},
	{name: "drop mid-blob", body: true, fault: fake.DropAfter(20).Times(1)},
	{name: "flip byte", body: true, fault: fake.FlipByte(20).Times(1)},
	{name: "truncate body", body: true, fault: fake.Truncate(20).Times(1)},
	{name: "latency 20ms", every: true, fault: fake.Delay(20 * time.Millisecond)},
	// Faults that do not go away: the operation must fail, typed, and leave
	// nothing half done.
	{name: "503 always", fault: fake.FailWith(503)},
	{name: "flip byte always", body: true, fault: fake.FlipByte(20)},
}

var faultOps = []faultOp{
	{
		name:     "push",
		says:     "push ",
		statusAt: []faultTarget{{method: "PUT", route: fake.RouteManifest}},
		bodyAt:   []faultTarget{{route: fake.RouteUpload}},
		setup:    func(*testing.T, *faultEnv) {},
		run: func(ctx context.Context, e *faultEnv) error {
			_, err := e.srcRepo.Push(ctx, e.v1, "latest")
			return err
		},
		check: func(ctx context.Context, e *faultEnv, opErr error) error {
			return checkTag(ctx, e.srcRepo, "latest", opErr, e.v1)
		},
	},
	{
		name:     "pull",
		says:     "sha256:", // the manifest or blob that failed
		statusAt: []faultTarget{{method: "GET", route: fake.RouteBlob}},
		bodyAt:   []faultTarget{{method: "GET", route: fake.RouteBlob}},
		setup:    pushV1,
		run: func(ctx context.Context, e *faultEnv) error {
			return pullVerified(ctx, e.srcRepo, "latest", e.v1)
		},
		check: func(ctx context.Context, e *faultEnv, _ error) error {
			return checkTag(ctx, e.srcRepo, "latest", nil, e.v1)
		},
	},
	{
		name:     "tag move",
		says:     "point myapp1:latest at ",
		statusAt: []faultTarget{{method: "PUT", route: fake.RouteManifest}},
		bodyAt:   []faultTarget{{method: "PUT", route: fake.RouteManifest}},
		setup: func(t *testing.T, e *faultEnv) {
			pushV1(t, e)
			_, err := e.srcRepo.Push(t.Context(), e.v2, "v2")
			require.NoError(t, err)
		},
		run: func(ctx context.Context, e *faultEnv) error {
			return e.srcRepo.Tag("latest").Point(ctx, e.v2.Descriptor())
		},
		check: func(ctx context.Context, e *faultEnv, opErr error) error {
			if opErr == nil {
				return checkTag(ctx, e.srcRepo, "latest", nil, e.v2)
			}
			return checkTag(ctx, e.srcRepo, "latest", opErr, e.v1, e.v2)
		},
	},
	{
		name:     "copy",
		says:     "copy myapp1:latest to prod/myapp1",
		statusAt: []faultTarget{{method: "GET", route: fake.RouteBlob}, {dst: true, method: "PUT", route: fake.RouteManifest}},
		bodyAt:   []faultTarget{{method: "GET", route: fake.RouteBlob}, {dst: true, route: fake.RouteUpload}},
		setup:    pushV1,
		run: func(ctx context.Context, e *faultEnv) error {
			_, err := regkit.Copy(ctx, e.srcRepo, "latest", e.dstRepo, nil)
			return err
		},
		check: func(ctx context.Context, e *faultEnv, opErr error) error {
			return errors.Join(checkTag(ctx, e.dstRepo, "latest", opErr, e.v1), checkTag(ctx, e.srcRepo, "latest", nil, e.v1))
		},
	},
}

func pushV1(t *testing.T, e *faultEnv) {
	t.Helper()
	_, err := e.srcRepo.Push(t.Context(), e.v1, "latest")
	require.NoError(t, err)
}

// pullVerified pulls ref from repo and reads every blob, verified as it
// streams and hashed again here, and checks that it is want.
func pullVerified(ctx context.Context, repo *repository.Repository, ref string, want *image.Image) error {
	img, err := repo.Tag(ref).Image(ctx)
	if err != nil {
		return err
	}
	if got := img.Descriptor().Digest; got != want.Descriptor().Digest {
		return fmt.Errorf("pulled %s:%s = %s, want %s (CORRUPT)", repo.Name(), ref, got, want.Descriptor().Digest)
	}
	for _, b := range img.Blobs() {
		desc := b.Descriptor()
		rc, err := repo.Blob(ctx, desc)
		if err != nil {
			return err
		}
		data, err := readAllClose(rc)
		if err != nil {
			return err
		}
		if got := desc.Digest.Algorithm().FromBytes(data); got != desc.Digest {
			return fmt.Errorf("blob %s read as %s (CORRUPT)", desc.Digest, got)
		}
	}
	return nil
}

// checkTag checks that tag of repo names one of imgs, whole and intact
// (its manifest and every blob readable and verified). After a failed
// operation (opErr not nil) the tag may also be absent, and after one that
// failed with DIGEST_INVALID it may name another manifest, which must still
// be readable: the registry stored what reached it, and the client said
// so. Whatever the outcome, the tag never names a missing manifest.
func checkTag(ctx context.Context, repo *repository.Repository, tag string, opErr error, imgs ...*image.Image) error {
	desc, err := repo.Resolve(ctx, tag)
	if opErr != nil && errors.Is(err, transport.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolve %s:%s: %w", repo.Name(), tag, err)
	}
	i := slices.IndexFunc(imgs, func(img *image.Image) bool { return img.Descriptor().Digest == desc.Digest })
	if i < 0 {
		if _, _, merr := repo.Manifest(ctx, desc.Digest); merr != nil {
			return fmt.Errorf("%s:%s names %s, which cannot be read: %w", repo.Name(), tag, desc.Digest, merr)
		}
		if errors.Is(opErr, transport.ErrDigestInvalid) {
			return nil
		}
		return fmt.Errorf("%s:%s names %s, none of the images it may name (CORRUPT)", repo.Name(), tag, desc.Digest)
	}
	if err := pullVerified(ctx, repo, tag, imgs[i]); err != nil {
		return fmt.Errorf("%s:%s is not whole: %w", repo.Name(), tag, err)
	}
	return nil
}

// errorClass names the typed error err is, or "" when it is none of them.
func errorClass(err error) string {
	var re *remote.ResponseError
	var ne net.Error
	switch {
	case errors.Is(err, transport.ErrDigestInvalid):
		return "DIGEST_INVALID"
	case errors.Is(err, transport.ErrSizeInvalid):
		return "SIZE_INVALID"
	case errors.Is(err, transport.ErrTooManyRequests):
		return "TOOMANYREQUESTS"
	case errors.Is(err, transport.ErrManifestInvalid):
		return "MANIFEST_INVALID"
	case errors.Is(err, transport.ErrBlobUploadInvalid):
		return "BLOB_UPLOAD_INVALID"
	case errors.As(err, &re):
		return fmt.Sprintf("HTTP %d", re.StatusCode)
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	case errors.As(err, &ne):
		return "net error"
	}
	return ""
}

// faultOutcome is a row of the outcome table.
type faultOutcome struct {
	op, fault, outcome string
	fired, requests    int
	err                string
}

// faultTargets returns the fault of kind for the targets of op, per
// server.
func faultTargets(op faultOp, kind faultKind) (src, dst []fake.Fault) {
	if kind.every {
		return []fake.Fault{kind.fault}, []fake.Fault{kind.fault}
	}
	targets := op.statusAt
	if kind.body {
		targets = op.bodyAt
	}
	for _, tg := range targets {
		f := kind.fault.On(tg.method, tg.route)
		if tg.dst {
			dst = append(dst, f)
		} else {
			src = append(src, f)
		}
	}
	return src, dst
}

// TestFaultTable runs push, pull, tag move and copy against fake registries
// that inject each kind of fault, and checks that every operation either
// succeeds with the right content in place or fails with a typed error,
// that no corrupt content is ever accepted, that no tag is left naming a
// missing manifest, and that no goroutine outlives the servers. It logs
// the outcomes as a table.
func TestFaultTable(t *testing.T) {
	before := runtime.NumGoroutine()
	var (
		mu       sync.Mutex
		outcomes []faultOutcome
	)
	t.Run("cases", func(t *testing.T) {
		for _, op := range faultOps {
			for _, kind := range faultKinds {
				t.Run(op.name+"/"+kind.name, func(t *testing.T) {
					t.Parallel()
					out := runFaultCase(t, op, kind)
					mu.Lock()
					outcomes = append(outcomes, out)
					mu.Unlock()
				})
			}
		}
	})

	var b strings.Builder
	b.WriteString("\n| operation | fault | outcome | fault fired | requests | error |\n|---|---|---|---|---|---|\n")
	slices.SortFunc(outcomes, func(a, b faultOutcome) int {
		return opIndex(a.op)*100 + kindIndex(a.fault) - opIndex(b.op)*100 - kindIndex(b.fault)
	})
	for _, o := range outcomes {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s |\n", o.op, o.fault, o.outcome, o.fired, o.requests, o.err)
	}
	t.Logf("fault table:%s", b.String())

	checkGoroutinesBack(t, before, "the fault table")
}

// checkGoroutinesBack waits up to 10 s for the number of goroutines to come
// back to before (give or take two), and fails t with every goroutine's
// stack if it does not.
func checkGoroutinesBack(t *testing.T, before int, after string) {
	t.Helper()
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); n > before+2 && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	if n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after %s, %d before:\n%s", n, after, before, buf[:runtime.Stack(buf, true)])
	}
}

func opIndex(name string) int {
	return slices.IndexFunc(faultOps, func(op faultOp) bool { return op.name == name })
}

func kindIndex(name string) int {
	return slices.IndexFunc(faultKinds, func(k faultKind) bool { return k.name == name })
}

// runFaultCase runs op under kind on new registries and checks the
// outcome.
func runFaultCase(t *testing.T, op faultOp, kind faultKind) faultOutcome {
	e := &faultEnv{src: fake.Serve(t), v1: appImage(t, "myapp1", "1.0", 2), v2: appImage(t, "myapp1", "2.0", 2)}
	e.dst = e.src
	srcReg, err := registry.New(e.src.Host)
	require.NoError(t, err)
	e.srcRepo, e.dstRepo = srcReg.Repository("myapp1"), srcReg.Repository("myapp1")
	if op.name == "copy" {
		e.dst = fake.Serve(t)
		dstReg, err := registry.New(e.dst.Host)
		require.NoError(t, err)
		e.dstRepo = dstReg.Repository("prod/myapp1")
	}
	op.setup(t, e)

	srcFaults, dstFaults := faultTargets(op, kind)
	e.src.ResetRequests()
	e.src.SetFaults(srcFaults...)
	if e.dst != e.src {
		e.dst.ResetRequests()
		e.dst.SetFaults(dstFaults...)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	opErr := op.run(ctx, e)
	cancel()
	e.src.SetFaults()
	e.dst.SetFaults()

	out := faultOutcome{op: op.name, fault: kind.name, outcome: "ok"}
	servers := []*fake.Server{e.src}
	if e.dst != e.src {
		servers = append(servers, e.dst)
	}
	for _, s := range servers {
		for _, r := range s.Requests() {
			out.requests++
			if r.Fault != "" {
				out.fired++
			}
		}
	}
	require.Positive(t, out.fired, "the fault never fired: the case tests nothing")
	if opErr != nil {
		class := errorClass(opErr)
		require.NotEmpty(t, class, "%s under %s failed with an untyped error: %v (%T)", op.name, kind.name, opErr, opErr)
		require.NotContains(t, opErr.Error(), "CORRUPT")
		require.Contains(t, opErr.Error(), op.says, "the error names the operation")
		out.outcome, out.err = "error: "+class, shorten(opErr.Error(), 110)
		t.Logf("%s under %s: %v", op.name, kind.name, opErr)
	}
	checkErr := op.check(t.Context(), e, opErr)
	bug, known := knownFaultBugs[op.name+"/"+kind.name]
	switch {
	case checkErr != nil && known:
		out.outcome = "KNOWN BUG: " + out.outcome
		out.err = shorten(checkErr.Error(), 110)
		t.Logf("known bug (%s): %v", bug, checkErr)
	case checkErr != nil:
		t.Errorf("after %s under %s (%v): %v", op.name, kind.name, opErr, checkErr)
	case known:
		t.Errorf("the known bug of %s under %s no longer shows (%s): remove it from knownFaultBugs", op.name, kind.name, bug)
	}
	return out
}

// knownFaultBugs are the cases of the fault table that show a bug of
// regkit not fixed yet, by "operation/fault", with the bug. Their check
// failing is logged, not reported; their check passing is reported, so
// that the entry goes once the bug is fixed.
var knownFaultBugs = map[string]string{}

// shorten cuts s to n bytes, digests abbreviated, for the table.
func shorten(s string, n int) string {
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `:,"()`)
		if d, err := digest.Parse(f); err == nil {
			s = strings.ReplaceAll(s, f, d.Encoded()[:8])
		}
	}
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
