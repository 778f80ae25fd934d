// Package regtest starts real registry software for regkit's tests: Debian's
// docker-registry (the distribution registry) on a loopback port, with a
// configuration the test writes, stopped when the test ends. The tools are
// installed by the project's test command (.ci/test), which sets
// REGKIT_E2E=1 so that a missing tool fails the test; in a plain `go test
// ./...` a test whose tool is missing is skipped, naming that command.
package regtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// E2EVar is the environment variable that makes the end-to-end tests
// mandatory: `bash .ci/test` (the README's test command, which installs the
// tools) sets it to 1, and a missing tool then fails the test. Without it, a
// test that needs a missing tool is skipped with a message naming that
// command, so `go test ./...` in a clone with only Go is green.
const E2EVar = "REGKIT_E2E"

// Tool returns the path of a command the tests need. When it is missing the
// test fails under REGKIT_E2E=1 and is skipped otherwise, naming the
// command that installs it and runs the end-to-end tests.
func Tool(t testing.TB, name string) string {
	t.Helper()
	return lookTool(t, name, "docker-registry skopeo")
}

// lookTool is [Tool] for a command of Debian package pkg.
func lookTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed: the end-to-end tests run with `bash .ci/test`, which installs it (apt-get install %s) and sets %s=1", name, pkg, E2EVar)
	if os.Getenv(E2EVar) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Distribution starts docker-registry with filesystem storage in a temporary
// directory and deletes enabled, listening on 127.0.0.1, and returns its
// host:port. extraConfig is YAML appended to the configuration (for auth
// sections). The registry is stopped when the test ends.
func Distribution(t testing.TB, extraConfig string) string {
	t.Helper()
	bin := Tool(t, "docker-registry")
	dir := t.TempDir()
	host := freeAddr(t)
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
%s`, filepath.Join(dir, "data"), host, extraConfig)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start docker-registry: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil && len(b) > 0 {
				t.Logf("docker-registry log:\n%s", tail(string(b), 4000))
			}
		}
	})
	if err := waitReady(host, done); err != nil {
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("docker-registry did not start on %s: %v\n%s", host, err, tail(string(b), 4000))
	}
	return host
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(host string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Run runs a command and returns its combined output, failing the test with
// that output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, Tool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
