package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// dcTestJSON returns the JSON of the file at path, decoded.
func dcTestJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", path, err, data)
	}
	return m
}

// dcTestAuths returns the "auths" of the file at path.
func dcTestAuths(t *testing.T, path string) map[string]any {
	t.Helper()
	a, _ := dcTestJSON(t, path)["auths"].(map[string]any)
	return a
}

func TestDockerConfigSaveNewFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "made", "for", "it")
	path := filepath.Join(dir, "config.json")
	s, err := DockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	alice := Credential{Username: "alice", Password: "pa55word"}
	if err := s.Save(t.Context(), "ghcr.io", alice); err != nil {
		t.Fatalf("Save = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700", di.Mode().Perm())
	}
	want := map[string]any{"auths": map[string]any{"ghcr.io": map[string]any{"auth": dcTestB64("alice:pa55word")}}}
	if got := dcTestJSON(t, path); !reflect.DeepEqual(got, want) {
		t.Errorf("file = %v, want %v", got, want)
	}
	if c, err := s.Credential(t.Context(), "ghcr.io"); err != nil || c != alice {
		t.Errorf("Credential after Save = %v, %v; want %v", c, err, alice)
	}
	// Another store reads what was saved.
	s2, err := DockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s2.Credential(t.Context(), "ghcr.io"); err != nil || c != alice {
		t.Errorf("Credential of a new store = %v, %v; want %v", c, err, alice)
	}
}

func TestDockerConfigSaveKeepsTheRest(t *testing.T) {
	t.Parallel()
	original := `{
	"auths": {
		"quay.io": {"auth": "` + dcTestB64("q:q") + `", "email": "q@example.com", "x-future": [1, 2]},
		"https://ghcr.io": {"auth": "` + dcTestB64("old:old") + `"}
	},
	"HttpHeaders": {"X-Meta": "kept"},
	"psFormat": "table {{.ID}}",
	"proxies": {"default": {"httpProxy": "http://proxy:3128"}},
	"currentContext": "remote",
	"features": {"buildkit": "true"}
}`
	path := dcTestWrite(t, original)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := DockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var before map[string]any
	if err := json.Unmarshal([]byte(original), &before); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(t.Context(), "GHCR.io", Credential{Username: "alice", Password: "new"}); err != nil {
		t.Fatalf("Save = %v", err)
	}
	after := dcTestJSON(t, path)
	for k, v := range before {
		if k == "auths" {
			continue
		}
		if !reflect.DeepEqual(after[k], v) {
			t.Errorf("key %q = %v after Save, want %v", k, after[k], v)
		}
	}
	if len(after) != len(before) {
		t.Errorf("file has %d keys after Save, want %d", len(after), len(before))
	}
	auths := dcTestAuths(t, path)
	beforeAuths := before["auths"].(map[string]any)
	if !reflect.DeepEqual(auths["quay.io"], beforeAuths["quay.io"]) {
		t.Errorf("quay.io entry = %v, want it untouched: %v", auths["quay.io"], beforeAuths["quay.io"])
	}
	// The existing entry of the host is replaced under its own key.
	wantGHCR := map[string]any{"auth": dcTestB64("alice:new")}
	if !reflect.DeepEqual(auths["https://ghcr.io"], wantGHCR) || len(auths) != 2 {
		t.Errorf("auths = %v, want https://ghcr.io replaced by %v and no new key", auths, wantGHCR)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v after Save, want 0600", fi.Mode().Perm())
	}
}

func TestDockerConfigSaveEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		config    string
		host      string
		c         Credential
		wantAuths map[string]any
	}{
		{name: "docker hub key", config: `{}`, host: "docker.io", c: Credential{Username: "alice", Password: "pw"},
			wantAuths: map[string]any{"https://index.docker.io/v1/": map[string]any{"auth": dcTestB64("alice:pw")}}},
		{name: "docker hub existing podman key", config: `{"auths":{"docker.io":{}}}`, host: "index.docker.io", c: Credential{Username: "alice", Password: "pw"},
			wantAuths: map[string]any{"docker.io": map[string]any{"auth": dcTestB64("alice:pw")}}},
		{name: "identity token", config: `{}`, host: "ghcr.io", c: Credential{Username: "alice", IdentityToken: "refresh-s3cret"},
			wantAuths: map[string]any{"ghcr.io": map[string]any{"auth": dcTestB64("alice:"), "identitytoken": "refresh-s3cret"}}},
		{name: "registry token", config: `{}`, host: "ghcr.io", c: Credential{RegistryToken: "bearer-s3cret"},
			wantAuths: map[string]any{"ghcr.io": map[string]any{"registrytoken": "bearer-s3cret"}}},
		{name: "replaces null auths", config: `{"auths":null}`, host: "localhost:5000", c: Credential{Username: "a", Password: "b"},
			wantAuths: map[string]any{"localhost:5000": map[string]any{"auth": dcTestB64("a:b")}}},
		{name: "empty file", config: ``, host: "ghcr.io", c: Credential{Username: "a", Password: "b"},
			wantAuths: map[string]any{"ghcr.io": map[string]any{"auth": dcTestB64("a:b")}}},
		{name: "zero removes every key of the host", host: "docker.io", c: Credential{},
			config:    `{"auths":{"docker.io":{},"https://index.docker.io/v1/":{"auth":"` + dcTestB64("a:b") + `"},"ghcr.io":{}}}`,
			wantAuths: map[string]any{"ghcr.io": map[string]any{}}},
		{name: "zero for an unknown host", config: `{"auths":{"ghcr.io":{}}}`, host: "quay.io", c: Credential{},
			wantAuths: map[string]any{"ghcr.io": map[string]any{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := dcTestWrite(t, tc.config)
			s, err := DockerConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Save(t.Context(), tc.host, tc.c); err != nil {
				t.Fatalf("Save = %v", err)
			}
			if got := dcTestAuths(t, path); !reflect.DeepEqual(got, tc.wantAuths) {
				t.Errorf("auths = %v, want %v", got, tc.wantAuths)
			}
			if c, err := s.Credential(t.Context(), tc.host); err != nil || c != tc.c {
				t.Errorf("Credential after Save = %v, %v; want %v", c, err, tc.c)
			}
		})
	}
}

func TestDockerConfigSaveRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
		host   string
		c      Credential
		errHas string
	}{
		{name: "password without username", config: `{}`, host: "ghcr.io", c: Credential{Password: "pa55word"}, errHas: "needs a username"},
		{name: "empty host", config: `{}`, host: "", c: Credential{Username: "a"}, errHas: "empty host"},
		{name: "malformed file", config: `{"auths":`, host: "ghcr.io", c: Credential{Username: "a"}, errHas: "malformed JSON"},
		{name: "malformed entry", config: `{"auths":{"quay.io":{"auth":"%%"}}}`, host: "ghcr.io", c: Credential{Username: "a"}, errHas: `entry "quay.io"`},
		{name: "not an object", config: `[1]`, host: "ghcr.io", c: Credential{Username: "a"}, errHas: "malformed JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.json")
			s, err := DockerConfig(path) // empty: the bad content comes after
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			err = s.Save(t.Context(), tc.host, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("Save = %v, want an error containing %q", err, tc.errHas)
			}
			credAssertNoSecret(t, "error", err.Error())
			if got, _ := os.ReadFile(path); string(got) != tc.config {
				t.Errorf("file = %q after a failed Save, want it unchanged", got)
			}
		})
	}
}

func TestDockerConfigSaveAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte(`{"auths":{"quay.io":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	s, err := DockerConfig(link)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(t.Context(), "ghcr.io", Credential{Username: "a", Password: "b"}); err != nil {
		t.Fatal(err)
	}
	// The old file was replaced, not written in place: a reader that had it
	// open still sees it whole.
	data, err := os.ReadFile(old.Name())
	if err != nil {
		t.Fatal(err)
	}
	oldData := make([]byte, 100)
	n, _ := old.Read(oldData)
	if string(oldData[:n]) != `{"auths":{"quay.io":{}}}` {
		t.Errorf("the open old file reads %q, want its old content", oldData[:n])
	}
	if !strings.Contains(string(data), "ghcr.io") {
		t.Errorf("the file reads %q, want the new entry", data)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("config.json is no longer a symbolic link (%v, %v)", fi, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only target.json and config.json (no temporary file left)", names)
	}
}

func TestDockerConfigSaveUnwritable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "docker")
	path := filepath.Join(dir, "config.json")
	s, err := DockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	// The directory's name is taken by a file: nothing can be written.
	if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *ConfigError
	if err := s.Save(t.Context(), "ghcr.io", Credential{Username: "a"}); !errors.As(err, &ce) || ce.Path != path {
		t.Errorf("Save(directory is a file) = %v, want a *ConfigError naming %s", err, path)
	}
	if err := dcWriteAtomic(path, []byte("{}")); err == nil {
		t.Error("dcWriteAtomic(directory is a file) = nil error")
	}
}

func TestDockerConfigSaveConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.json")
	s, err := DockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := fmt.Sprintf("r%d.example", i)
			for j := range 5 {
				if err := s.Save(t.Context(), host, Credential{Username: "u", Password: fmt.Sprint(j)}); err != nil {
					t.Error(err)
				}
				if _, err := s.Credential(t.Context(), host); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if auths := dcTestAuths(t, path); len(auths) != 8 {
		t.Errorf("auths has %d entries after concurrent saves, want 8: %v", len(auths), auths)
	}
}

func TestDockerConfigSaveThroughHelper(t *testing.T) {
	dir := helperTestInstall(t, "fake", helperTestScript)
	tests := []struct {
		name       string
		config     string
		host       string
		c          Credential
		wantStored string
		wantErased string
		wantErr    bool
	}{
		{name: "credHelpers", config: `{"credHelpers":{"ghcr.io":"fake"}}`, host: "ghcr.io", c: Credential{Username: "alice", Password: "pw"},
			wantStored: `{"ServerURL":"ghcr.io","Username":"alice","Secret":"pw"}`},
		{name: "credsStore", config: `{"credsStore":"fake"}`, host: "docker.io", c: Credential{Username: "alice", Password: "pw"},
			wantStored: `{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"pw"}`},
		{name: "erase", config: `{"credsStore":"fake"}`, host: "quay.io", c: Credential{}, wantErased: "quay.io"},
		{name: "registry token refused", config: `{"credsStore":"fake"}`, host: "quay.io", c: Credential{RegistryToken: "t"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{"stored", "erased"} {
				_ = os.Remove(filepath.Join(dir, f))
			}
			path := dcTestWrite(t, tc.config)
			s, err := DockerConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Save(t.Context(), tc.host, tc.c)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Save = %v, want error %v", err, tc.wantErr)
			}
			if got := strings.TrimSpace(helperTestRead(t, dir, "stored")); got != tc.wantStored {
				t.Errorf("helper stored %q, want %q", got, tc.wantStored)
			}
			if got := strings.TrimSpace(helperTestRead(t, dir, "erased")); got != tc.wantErased {
				t.Errorf("helper erased %q, want %q", got, tc.wantErased)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.config {
				t.Errorf("file = %q, want it untouched by a helper save", got)
			}
		})
	}
}
