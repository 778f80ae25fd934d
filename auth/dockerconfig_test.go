package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dcTestB64 returns the base64 of s.
func dcTestB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// dcTestWrite writes content to a new config.json and returns its path.
func dcTestWrite(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDockerConfigParse(t *testing.T) {
	t.Parallel()
	alice := Credential{Username: "alice", Password: "pa55word"}
	aliceAuth := dcTestB64("alice:pa55word")
	tests := []struct {
		name    string
		config  string // "" for no file at all
		host    string
		want    Credential
		wantKey string // the entry a *ConfigError names, when an error is expected
		wantErr bool
	}{
		{name: "auth field", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"}}}`, host: "ghcr.io", want: alice},
		{name: "username and password fields", config: `{"auths":{"ghcr.io":{"username":"alice","password":"pa55word"}}}`, host: "ghcr.io", want: alice},
		{name: "auth wins over username and password", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `","username":"bob","password":"x"}}}`, host: "ghcr.io", want: alice},
		{name: "identitytoken", config: `{"auths":{"ghcr.io":{"auth":"` + dcTestB64("alice:") + `","identitytoken":"refresh-s3cret"}}}`, host: "ghcr.io",
			want: Credential{Username: "alice", IdentityToken: "refresh-s3cret"}},
		{name: "registrytoken", config: `{"auths":{"ghcr.io":{"registrytoken":"bearer-s3cret"}}}`, host: "ghcr.io", want: Credential{RegistryToken: "bearer-s3cret"}},
		{name: "email and serveraddress ignored", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `","email":"a@example.com","serveraddress":"ghcr.io"}}}`, host: "ghcr.io", want: alice},
		{name: "password padded with NULs", config: `{"auths":{"ghcr.io":{"auth":"` + dcTestB64("alice:pa55word\x00\x00") + `"}}}`, host: "ghcr.io", want: alice},
		{name: "password holding a colon", config: `{"auths":{"ghcr.io":{"auth":"` + dcTestB64("alice:pa:ss") + `"}}}`, host: "ghcr.io", want: Credential{Username: "alice", Password: "pa:ss"}},
		{name: "unpadded base64", config: `{"auths":{"ghcr.io":{"auth":"` + strings.TrimRight(dcTestB64("alice:pa55word1"), "=") + `"}}}`, host: "ghcr.io", want: Credential{Username: "alice", Password: "pa55word1"}},
		{name: "hub key asked as docker.io", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + aliceAuth + `"}}}`, host: "docker.io", want: alice},
		{name: "hub key asked as index.docker.io", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + aliceAuth + `"}}}`, host: "index.docker.io", want: alice},
		{name: "hub key asked as registry-1.docker.io", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + aliceAuth + `"}}}`, host: "registry-1.docker.io", want: alice},
		{name: "hub key docker.io (podman style)", config: `{"auths":{"docker.io":{"auth":"` + aliceAuth + `"}}}`, host: "index.docker.io", want: alice},
		{name: "hub key http URL without path", config: `{"auths":{"http://index.docker.io":{"auth":"` + aliceAuth + `"}}}`, host: "docker.io", want: alice},
		{name: "http:// key with port", config: `{"auths":{"http://localhost:5000":{"auth":"` + aliceAuth + `"}}}`, host: "localhost:5000", want: alice},
		{name: "https:// key with path", config: `{"auths":{"https://ghcr.io/v2/":{"auth":"` + aliceAuth + `"}}}`, host: "ghcr.io", want: alice},
		{name: "key case ignored", config: `{"auths":{"GHCR.IO":{"auth":"` + aliceAuth + `"}}}`, host: "ghcr.io", want: alice},
		{name: "other host is anonymous", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"}}}`, host: "quay.io", want: Credential{}},
		{name: "other port is anonymous", config: `{"auths":{"localhost:5000":{"auth":"` + aliceAuth + `"}}}`, host: "localhost:5001", want: Credential{}},
		{name: "look-alike host is anonymous", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"}}}`, host: "ghcr.io.evil.example", want: Credential{}},
		{name: "empty entry is anonymous", config: `{"auths":{"ghcr.io":{}}}`, host: "ghcr.io", want: Credential{}},
		{name: "empty entry loses to a URL key with a credential", config: `{"auths":{"ghcr.io":{},"https://ghcr.io":{"auth":"` + aliceAuth + `"}}}`, host: "ghcr.io", want: alice},
		{name: "docker's key wins over a URL key", config: `{"auths":{"https://ghcr.io":{"username":"bob","password":"b"},"ghcr.io":{"auth":"` + aliceAuth + `"}}}`, host: "ghcr.io", want: alice},
		{name: "hub URL key wins over docker.io key", config: `{"auths":{"docker.io":{"username":"bob","password":"b"},"https://index.docker.io/v1/":{"auth":"` + aliceAuth + `"}}}`, host: "docker.io", want: alice},
		{name: "other keys ignored", config: `{"psFormat":"table","HttpHeaders":{"X":"y"},"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"}},"plugins":{}}`, host: "ghcr.io", want: alice},
		{name: "no auths", config: `{"psFormat":"table"}`, host: "ghcr.io", want: Credential{}},
		{name: "null auths", config: `{"auths":null}`, host: "ghcr.io", want: Credential{}},
		{name: "empty file", config: "  \n", host: "ghcr.io", want: Credential{}},
		{name: "empty host", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"}}}`, host: "", want: Credential{}},
		{name: "missing file", config: "", host: "ghcr.io", want: Credential{}},
		{name: "malformed JSON", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"}`, host: "ghcr.io", wantErr: true},
		{name: "auths not an object", config: `{"auths":["ghcr.io"]}`, host: "ghcr.io", wantErr: true},
		{name: "bad base64", config: `{"auths":{"ghcr.io":{"auth":"not*base64!"}}}`, host: "ghcr.io", wantErr: true, wantKey: "ghcr.io"},
		{name: "bad base64 in another entry", config: `{"auths":{"ghcr.io":{"auth":"` + aliceAuth + `"},"https://quay.io":{"auth":"%%%"}}}`, host: "ghcr.io", wantErr: true, wantKey: "https://quay.io"},
		{name: "auth without a colon", config: `{"auths":{"ghcr.io":{"auth":"` + dcTestB64("pa55word") + `"}}}`, host: "ghcr.io", wantErr: true, wantKey: "ghcr.io"},
		{name: "auth without a username", config: `{"auths":{"ghcr.io":{"auth":"` + dcTestB64(":pa55word") + `"}}}`, host: "ghcr.io", wantErr: true, wantKey: "ghcr.io"},
		{name: "entry field of the wrong type", config: `{"auths":{"ghcr.io":{"auth":5}}}`, host: "ghcr.io", wantErr: true, wantKey: "ghcr.io"},
		{name: "entry not an object", config: `{"auths":{"ghcr.io":"pa55word"}}`, host: "ghcr.io", wantErr: true, wantKey: "ghcr.io"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.json")
			if tc.config != "" {
				path = dcTestWrite(t, tc.config)
			}
			s, err := DockerConfig(path)
			if tc.wantErr {
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("DockerConfig = %v, want a *ConfigError", err)
				}
				if ce.Path != path || ce.Key != tc.wantKey {
					t.Errorf("ConfigError names %q entry %q, want %q entry %q", ce.Path, ce.Key, path, tc.wantKey)
				}
				if !strings.Contains(err.Error(), path) || (tc.wantKey != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.wantKey))) {
					t.Errorf("error %q does not name the file and the entry", err)
				}
				credAssertNoSecret(t, "error", fmt.Sprintf("%v %+v %#v", err, err, err))
				return
			}
			if err != nil {
				t.Fatalf("DockerConfig = %v", err)
			}
			got, err := s.Credential(t.Context(), tc.host)
			if err != nil || got != tc.want {
				t.Errorf("Credential(%q) = %v, %v; want %v, nil", tc.host, got, err, tc.want)
			}
		})
	}
}

func TestDockerConfigReloads(t *testing.T) {
	t.Parallel()
	path := dcTestWrite(t, `{"auths":{"ghcr.io":{"auth":"`+dcTestB64("alice:a")+`"}}}`)
	s, err := DockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Credential(t.Context(), "ghcr.io"); c.Username != "alice" {
		t.Fatalf("Credential = %v, want alice", c)
	}
	// Unchanged: parsed once. Changed: parsed again.
	if err := os.WriteFile(path, []byte(`{"auths":{"ghcr.io":{"auth":"`+dcTestB64("robert:b")+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Credential(t.Context(), "ghcr.io"); err != nil || c.Username != "robert" {
		t.Errorf("Credential after the file changed = %v, %v; want robert", c, err)
	}
	if err := os.WriteFile(path, []byte(`{`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credential(t.Context(), "ghcr.io"); err == nil {
		t.Error("Credential after the file broke = nil error, want a *ConfigError")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Credential(t.Context(), "ghcr.io"); err != nil || !c.IsZero() {
		t.Errorf("Credential after the file went = %v, %v; want anonymous", c, err)
	}
}

func TestDockerConfigUnreadable(t *testing.T) {
	t.Parallel()
	// A directory where the file should be cannot be read.
	dir := t.TempDir()
	_, err := DockerConfig(dir)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Path != dir || errors.Unwrap(ce) == nil {
		t.Errorf("DockerConfig(a directory) = %v, want a *ConfigError naming it and wrapping the fault", err)
	}
	_, err = DockerConfig(dcTestWrite(t, `{"auths":`))
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("DockerConfig(truncated JSON) = %v, want a *json.SyntaxError inside", err)
	}
}

func TestFromDockerConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", "")
	s := FromDockerConfig() // no I/O: the file is written after
	path := filepath.Join(home, ".docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"auths":{"ghcr.io":{"auth":"`+dcTestB64("alice:a")+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Credential(t.Context(), "ghcr.io"); err != nil || c.Username != "alice" {
		t.Errorf("Credential = %v, %v; want alice from ~/.docker/config.json", c, err)
	}
	if got := s.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	if got, want := fmt.Sprintf("%+v", s), "auth.DockerConfig("+path+")"; got != want {
		t.Errorf("Sprintf(%%+v) = %q, want %q", got, want)
	}

	dc := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dc)
	s = FromDockerConfig()
	if err := os.WriteFile(filepath.Join(dc, "config.json"), []byte(`{"auths":{"ghcr.io":{"auth":"`+dcTestB64("bob:b")+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Credential(t.Context(), "ghcr.io"); err != nil || c.Username != "bob" {
		t.Errorf("Credential = %v, %v; want bob from $DOCKER_CONFIG/config.json", c, err)
	}
	// Found once: the environment no longer matters.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if c, _ := s.Credential(t.Context(), "ghcr.io"); c.Username != "bob" {
		t.Errorf("Credential after DOCKER_CONFIG changed = %v, want bob still", c)
	}

	t.Setenv("DOCKER_CONFIG", dcTestDirWith(t, `{"auths":`))
	if _, err := FromDockerConfig().Credential(t.Context(), "ghcr.io"); err == nil {
		t.Error("Credential(malformed file) = nil error")
	}

	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("HOME", "")
	s = FromDockerConfig()
	if _, err := s.Credential(t.Context(), "ghcr.io"); err == nil || !strings.Contains(err.Error(), "DOCKER_CONFIG") {
		t.Errorf("Credential without a home = %v, want an error naming DOCKER_CONFIG", err)
	}
	if s.Path() != "" || s.String() != "auth.FromDockerConfig()" {
		t.Errorf("Path, String = %q, %q; want empty and auth.FromDockerConfig()", s.Path(), s.String())
	}
	if err := s.Save(t.Context(), "ghcr.io", Credential{Username: "a"}); err == nil {
		t.Error("Save without a home = nil error")
	}
}

// dcTestDirWith returns a new directory holding config.json with content.
func dcTestDirWith(t *testing.T, content string) string {
	t.Helper()
	return filepath.Dir(dcTestWrite(t, content))
}

func TestDockerConfigHelpers(t *testing.T) {
	dir := helperTestInstall(t, "fake", helperTestScript)
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-other"),
		[]byte("#!/bin/sh\ncat >/dev/null\necho '{\"Username\":\"other\",\"Secret\":\"o\"}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fileCred := `"auths":{"ghcr.io":{"auth":"` + dcTestB64("fileuser:f") + `"},"quay.io":{"auth":"` + dcTestB64("fileuser:f") + `"}}`
	tests := []struct {
		name     string
		config   string
		host     string
		wantUser string
		wantTok  string
		errIs    error
	}{
		{name: "credsStore for every host", config: `{"credsStore":"fake",` + fileCred + `}`, host: "docker.io", wantUser: "hubuser"},
		{name: "credsStore hides auths", config: `{"credsStore":"fake",` + fileCred + `}`, host: "quay.io"},
		{name: "credsStore identity token", config: `{"credsStore":"fake"}`, host: "ghcr.io", wantTok: "refresh-s3cret"},
		{name: "credHelpers wins over credsStore", config: `{"credsStore":"fake","credHelpers":{"quay.io":"other"}}`, host: "quay.io", wantUser: "other"},
		{name: "credHelpers wins over auths", config: `{"credHelpers":{"ghcr.io":"other"},` + fileCred + `}`, host: "ghcr.io", wantUser: "other"},
		{name: "credHelpers for another host", config: `{"credHelpers":{"ghcr.io":"other"},` + fileCred + `}`, host: "quay.io", wantUser: "fileuser"},
		{name: "credHelpers hub key", config: `{"credHelpers":{"https://index.docker.io/v1/":"other"}}`, host: "docker.io", wantUser: "other"},
		{name: "credHelpers empty name sends to auths", config: `{"credsStore":"fake","credHelpers":{"quay.io":""},` + fileCred + `}`, host: "quay.io", wantUser: "fileuser"},
		{name: "helper not installed", config: `{"credsStore":"desktop"}`, host: "ghcr.io", errIs: exec.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DockerConfig(dcTestWrite(t, tc.config))
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Credential(t.Context(), tc.host)
			if tc.errIs != nil {
				if !errors.Is(err, tc.errIs) {
					t.Errorf("Credential(%q) = %v, want %v", tc.host, err, tc.errIs)
				}
				return
			}
			if err != nil || c.Username != tc.wantUser || c.IdentityToken != tc.wantTok {
				t.Errorf("Credential(%q) = %v, %v; want user %q, identity token set %v", tc.host, c, err, tc.wantUser, tc.wantTok != "")
			}
		})
	}
}

func TestDockerConfigCanceled(t *testing.T) {
	t.Parallel()
	s, err := DockerConfig(filepath.Join(t.TempDir(), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := credTestCanceled(t)
	defer cancel()
	if _, err := s.Credential(ctx, "ghcr.io"); err == nil {
		t.Error("Credential(canceled) = nil error")
	}
	if err := s.Save(ctx, "ghcr.io", Credential{Username: "a"}); err == nil {
		t.Error("Save(canceled) = nil error")
	}
}
