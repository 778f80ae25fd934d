package regtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordTB records how a check ended: Fatal and Skip stop it, as the real
// ones do, by unwinding to lookOutcome.
type recordTB struct {
	testing.TB
	failed, skipped string
}

type stopped struct{}

func (r *recordTB) Helper()                      {}
func (r *recordTB) Fatal(args ...any)            { r.failed = fmt.Sprint(args...); panic(stopped{}) }
func (r *recordTB) Skip(args ...any)             { r.skipped = fmt.Sprint(args...); panic(stopped{}) }
func (r *recordTB) Fatalf(f string, args ...any) { r.Fatal(fmt.Sprintf(f, args...)) }

// lookOutcome runs lookTool on a recording TB.
func lookOutcome(t *testing.T, name string) (path string, r *recordTB) {
	r = &recordTB{TB: t}
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopped); !ok {
				panic(v)
			}
		}
	}()
	return lookTool(r, name, "pkg"), r
}

// TestLookTool checks what a plain `go test ./...` depends on: a missing
// tool skips the end-to-end test, naming the command that runs it, unless
// REGKIT_E2E=1, where it fails it; a tool that is there is found.
func TestLookTool(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	tests := []struct {
		name, tool, e2e       string
		wantPath              bool
		wantSkip, wantFailure bool
	}{
		{name: "missing, plain go test", tool: "absent", e2e: "", wantSkip: true},
		{name: "missing, REGKIT_E2E=0", tool: "absent", e2e: "0", wantSkip: true},
		{name: "missing, REGKIT_E2E=1", tool: "absent", e2e: "1", wantFailure: true},
		{name: "present", tool: "present", e2e: "", wantPath: true},
		{name: "present, REGKIT_E2E=1", tool: "present", e2e: "1", wantPath: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(E2EVar, tc.e2e)
			path, r := lookOutcome(t, tc.tool)
			if got := path != ""; got != tc.wantPath {
				t.Errorf("path %q, want one: %v", path, tc.wantPath)
			}
			if got := r.skipped != ""; got != tc.wantSkip {
				t.Errorf("skipped %q, want a skip: %v", r.skipped, tc.wantSkip)
			}
			if got := r.failed != ""; got != tc.wantFailure {
				t.Errorf("failed %q, want a failure: %v", r.failed, tc.wantFailure)
			}
			for _, msg := range []string{r.skipped, r.failed} {
				if msg != "" && (!strings.Contains(msg, "bash .ci/test") || !strings.Contains(msg, tc.tool)) {
					t.Errorf("message %q names neither the tool nor `bash .ci/test`", msg)
				}
			}
		})
	}
}
