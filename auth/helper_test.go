package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helperTestScript is a credential helper that knows Docker Hub (a
// password), ghcr.io (an identity token) and a few failing hosts, and logs
// each call to $dir/log. store appends its input to $dir/stored, erase its
// server URL to $dir/erased.
const helperTestScript = `#!/bin/sh
dir=$(dirname "$0")
in=$(cat)
echo "$1 $in" >> "$dir/log"
case "$1" in
get)
	case "$in" in
	https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hub-s3cret"}' ;;
	ghcr.io) printf '{"ServerURL":"ghcr.io","Username":"<token>","Secret":"refresh-s3cret"}' ;;
	empty.example) echo '{"ServerURL":"empty.example","Username":"","Secret":""}' ;;
	fail.example) echo "keyring is locked" >&2; exit 3 ;;
	stdout-fail.example) echo "something broke"; exit 4 ;;
	garbage.example) echo 'not json: garbage-s3cret' ;;
	slow.example) exec sleep 30 ;;
	*) echo "credentials not found in native keychain"; exit 1 ;;
	esac ;;
store)
	case "$in" in
	*refuse.example*) echo "cannot store $in" >&2; exit 5 ;;
	esac
	echo "$in" >> "$dir/stored" ;;
erase)
	case "$in" in
	nothing.example) echo "credentials not found in native keychain"; exit 1 ;;
	esac
	echo "$in" >> "$dir/erased" ;;
*) echo "unknown action $1" >&2; exit 9 ;;
esac
`

// helperTestInstall writes the credential helper docker-credential-<name>
// with script into a new directory put first on $PATH, and returns the
// directory. Tests calling it cannot run in parallel.
func helperTestInstall(t *testing.T, name, script string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// helperTestRead returns the content of file in dir, or "".
func helperTestRead(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func TestHelperCredential(t *testing.T) {
	dir := helperTestInstall(t, "fake", helperTestScript)
	hub := Credential{Username: "hubuser", Password: "hub-s3cret"}
	tests := []struct {
		name      string
		host      string
		want      Credential
		wantLog   string // the log line of the call
		wantErr   bool
		errHas    []string
		errHasNot []string
	}{
		{name: "docker hub as docker.io", host: "docker.io", want: hub, wantLog: "get https://index.docker.io/v1/"},
		{name: "docker hub as index.docker.io", host: "index.docker.io", want: hub, wantLog: "get https://index.docker.io/v1/"},
		{name: "docker hub as registry-1", host: "registry-1.docker.io", want: hub, wantLog: "get https://index.docker.io/v1/"},
		{name: "identity token", host: "ghcr.io", want: Credential{IdentityToken: "refresh-s3cret"}, wantLog: "get ghcr.io"},
		{name: "host is lower-cased", host: "GHCR.io", want: Credential{IdentityToken: "refresh-s3cret"}, wantLog: "get ghcr.io"},
		{name: "not found is anonymous", host: "quay.io", want: Credential{}, wantLog: "get quay.io"},
		{name: "empty answer is anonymous", host: "empty.example", want: Credential{}, wantLog: "get empty.example"},
		{name: "failure shows stderr", host: "fail.example", wantLog: "get fail.example", wantErr: true,
			errHas: []string{"docker-credential-fake", "get fail.example", "exit status 3", "keyring is locked"}},
		{name: "failure never shows stdout of get", host: "stdout-fail.example", wantLog: "get stdout-fail.example", wantErr: true,
			errHas: []string{"exit status 4"}, errHasNot: []string{"something broke"}},
		{name: "unparsable answer hides the output", host: "garbage.example", wantLog: "get garbage.example", wantErr: true,
			errHas: []string{"not the JSON of a credential"}, errHasNot: []string{"garbage-s3cret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(filepath.Join(dir, "log"))
			got, err := Helper("fake").Credential(t.Context(), tc.host)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Helper(fake).Credential(%q) = %v, %v; want %v, error %v", tc.host, got, err, tc.want, tc.wantErr)
			}
			if log := strings.TrimSpace(helperTestRead(t, dir, "log")); log != tc.wantLog {
				t.Errorf("helper log = %q, want %q", log, tc.wantLog)
			}
			if err == nil {
				return
			}
			var he *HelperError
			if !errors.As(err, &he) || he.Program != "docker-credential-fake" || he.Action != "get" {
				t.Errorf("error = %#v, want a *HelperError of docker-credential-fake get", err)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range tc.errHasNot {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
		})
	}
}

func TestHelperNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Helper("nonexistent").Credential(t.Context(), "ghcr.io")
	if !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("Credential = %v, want an error matching exec.ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "docker-credential-nonexistent") {
		t.Errorf("error %q does not name the program", err)
	}
}

func TestHelperBadName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "../evil", "a/b", `a\b`} {
		if _, err := Helper(name).Credential(t.Context(), "ghcr.io"); err == nil || !strings.Contains(err.Error(), "invalid helper name") {
			t.Errorf("Helper(%q).Credential = %v, want an invalid name error", name, err)
		}
	}
}

func TestHelperContext(t *testing.T) {
	helperTestInstall(t, "fake", helperTestScript)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Helper("fake").Credential(ctx, "ghcr.io"); !errors.Is(err, context.Canceled) {
		t.Errorf("Credential(canceled) = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Helper("fake").Credential(ctx, "slow.example")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Credential(slow helper) = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Credential(slow helper) took %v, want the deadline to stop it", d)
	}
}

func TestHelperEmptyHost(t *testing.T) {
	t.Parallel()
	// No program runs for an empty host: a missing program is no error.
	if c, err := Helper("nonexistent-xyz").Credential(t.Context(), ""); err != nil || !c.IsZero() {
		t.Errorf("Credential(\"\") = %v, %v; want anonymous, nil", c, err)
	}
	if err := Helper("nonexistent-xyz").Save(t.Context(), "", Credential{Username: "a"}); err == nil {
		t.Error("Save(\"\") = nil, want an error")
	}
}

func TestHelperSave(t *testing.T) {
	dir := helperTestInstall(t, "fake", helperTestScript)
	tests := []struct {
		name       string
		host       string
		c          Credential
		wantStored string
		wantErased string
		errHas     string
	}{
		{name: "password", host: "quay.io", c: Credential{Username: "alice", Password: "pa55word"},
			wantStored: `{"ServerURL":"quay.io","Username":"alice","Secret":"pa55word"}`},
		{name: "docker hub", host: "docker.io", c: Credential{Username: "alice", Password: "pw"},
			wantStored: `{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"pw"}`},
		{name: "identity token", host: "ghcr.io", c: Credential{Username: "alice", IdentityToken: "refresh-s3cret"},
			wantStored: `{"ServerURL":"ghcr.io","Username":"\u003ctoken\u003e","Secret":"refresh-s3cret"}`},
		{name: "zero erases", host: "quay.io", c: Credential{}, wantErased: "quay.io"},
		{name: "erasing an unknown host", host: "nothing.example", c: Credential{}},
		{name: "registry token refused", host: "quay.io", c: Credential{RegistryToken: "bearer-s3cret"}, errHas: "registry token cannot be stored"},
		{name: "username needed", host: "quay.io", c: Credential{Password: "pa55word"}, errHas: "needs a username"},
		{name: "failure hides the secret", host: "refuse.example", c: Credential{Username: "alice", Password: "pa55word"},
			errHas: "exit status 5: cannot store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{"stored", "erased"} {
				_ = os.Remove(filepath.Join(dir, f))
			}
			err := Helper("fake").Save(t.Context(), tc.host, tc.c)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("Save = %v, want an error containing %q", err, tc.errHas)
				}
				credAssertNoSecret(t, "error", err.Error())
				credAssertNoSecret(t, "error", fmt.Sprintf("%+v %#v", err, err))
				return
			}
			if err != nil {
				t.Fatalf("Save = %v", err)
			}
			if got := strings.TrimSpace(helperTestRead(t, dir, "stored")); got != tc.wantStored {
				t.Errorf("stored %q, want %q", got, tc.wantStored)
			}
			if got := strings.TrimSpace(helperTestRead(t, dir, "erased")); got != tc.wantErased {
				t.Errorf("erased %q, want %q", got, tc.wantErased)
			}
		})
	}
}

func TestHelperShow(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400) // 800 bytes
	got := helperShow(long, nil)
	if len(got) > helperMaxShown+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("helperShow(800 bytes) has %d bytes, want at most %d and an ellipsis", len(got), helperMaxShown+len("…"))
	}
	if got := helperShow("token abc and abc", []string{"abc", ""}); got != "token *** and ***" {
		t.Errorf("helperShow = %q, want the secret blanked", got)
	}
	var b helperBuffer
	n, err := b.Write(make([]byte, helperMaxOutput+10))
	if n != helperMaxOutput+10 || err != nil || b.Len() != helperMaxOutput {
		t.Errorf("helperBuffer.Write = %d, %v with %d kept; want all reported, %d kept", n, err, b.Len(), helperMaxOutput)
	}
}

func TestHelperString(t *testing.T) {
	t.Parallel()
	h := Helper("pass")
	if got := fmt.Sprint(h); got != "auth.Helper(pass)" {
		t.Errorf("Sprint(Helper) = %q", got)
	}
	if got := h.Program(); got != "docker-credential-pass" {
		t.Errorf("Program() = %q", got)
	}
}
