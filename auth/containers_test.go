package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// caTestEnv points every location ContainersAuthFile reads into a new
// directory, and returns the paths of the files in search order:
// REGISTRY_AUTH_FILE (not set), $XDG_RUNTIME_DIR, $XDG_CONFIG_HOME,
// $DOCKER_CONFIG and ~/.dockercfg.
type caTestEnv struct {
	authFile, runtime, config, docker, legacy string
}

func caTestSetup(t *testing.T) caTestEnv {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	for _, d := range []string{"run", "cfg", "dockercfg", "home"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(root, "run"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "cfg"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(root, "dockercfg"))
	return caTestEnv{
		authFile: filepath.Join(root, "explicit.json"),
		runtime:  filepath.Join(root, "run", "containers", "auth.json"),
		config:   filepath.Join(root, "cfg", "containers", "auth.json"),
		docker:   filepath.Join(root, "dockercfg", "config.json"),
		legacy:   filepath.Join(home, ".dockercfg"),
	}
}

// caTestPut writes content to path, making its directory.
func caTestPut(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// caTestEntry returns an auth.json holding user:pw for key.
func caTestEntry(key, user string) string {
	return fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, key, dcTestB64(user+":pw"))
}

func TestContainersAuthFileOrder(t *testing.T) {
	tests := []struct {
		name     string
		files    func(e caTestEnv) map[string]string
		explicit bool // set REGISTRY_AUTH_FILE
		host     string
		wantUser string
	}{
		{name: "runtime dir first", host: "quay.io", wantUser: "runtime", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.runtime: caTestEntry("quay.io", "runtime"), e.config: caTestEntry("quay.io", "config"),
				e.docker: caTestEntry("quay.io", "docker"), e.legacy: `{"quay.io":{"auth":"` + dcTestB64("legacy:pw") + `"}}`}
		}},
		{name: "config home second", host: "quay.io", wantUser: "config", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.runtime: caTestEntry("ghcr.io", "runtime"), e.config: caTestEntry("quay.io", "config"),
				e.docker: caTestEntry("quay.io", "docker")}
		}},
		{name: "docker config third", host: "quay.io", wantUser: "docker", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.config: `{"auths":{"quay.io":{}}}`, e.docker: caTestEntry("https://quay.io", "docker"),
				e.legacy: `{"quay.io":{"auth":"` + dcTestB64("legacy:pw") + `"}}`}
		}},
		{name: "legacy dockercfg last", host: "docker.io", wantUser: "legacy", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.legacy: `{"https://index.docker.io/v1/":{"auth":"` + dcTestB64("legacy:pw") + `","email":"x@example.com"}}`}
		}},
		{name: "REGISTRY_AUTH_FILE alone", explicit: true, host: "quay.io", wantUser: "explicit", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.authFile: caTestEntry("quay.io", "explicit"), e.runtime: caTestEntry("quay.io", "runtime")}
		}},
		{name: "REGISTRY_AUTH_FILE has no fallback", explicit: true, host: "quay.io", wantUser: "", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.authFile: caTestEntry("ghcr.io", "explicit"), e.runtime: caTestEntry("quay.io", "runtime"),
				e.docker: caTestEntry("quay.io", "docker")}
		}},
		{name: "namespaced keys are not the host's", host: "quay.io", wantUser: "config", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.runtime: `{"auths":{"quay.io/team":{"auth":"` + dcTestB64("team:pw") + `"},"quay.io/team/app":{"auth":"` + dcTestB64("app:pw") + `"}}}`,
				e.config: caTestEntry("quay.io", "config")}
		}},
		{name: "namespaced key alone is anonymous", host: "quay.io", wantUser: "", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.runtime: caTestEntry("quay.io/team", "team")}
		}},
		{name: "docker hub key variants", host: "registry-1.docker.io", wantUser: "hub", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.runtime: caTestEntry("docker.io", "hub")}
		}},
		{name: "docker credsStore ignored", host: "quay.io", wantUser: "docker", files: func(e caTestEnv) map[string]string {
			return map[string]string{e.docker: `{"credsStore":"not-installed","auths":{"quay.io":{"auth":"` + dcTestB64("docker:pw") + `"}}}`}
		}},
		{name: "nothing anywhere", host: "quay.io", wantUser: "", files: func(caTestEnv) map[string]string { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := caTestSetup(t)
			if tc.explicit {
				t.Setenv("REGISTRY_AUTH_FILE", e.authFile)
			}
			for path, content := range tc.files(e) {
				caTestPut(t, path, content)
			}
			c, err := ContainersAuthFile().Credential(t.Context(), tc.host)
			if err != nil || c.Username != tc.wantUser {
				t.Errorf("Credential(%q) = %v, %v; want user %q", tc.host, c, err, tc.wantUser)
			}
		})
	}
}

func TestContainersAuthFileHelpers(t *testing.T) {
	helperTestInstall(t, "fake", helperTestScript)
	e := caTestSetup(t)
	caTestPut(t, e.runtime, `{"credHelpers":{"docker.io":"fake","quay.io":"fake","ghcr.io":"missing-helper"},"auths":{"quay.io":{"auth":"`+dcTestB64("shadowed:pw")+`"}}}`)
	caTestPut(t, e.config, caTestEntry("quay.io", "config"))
	s := ContainersAuthFile()
	if c, err := s.Credential(t.Context(), "docker.io"); err != nil || c.Username != "hubuser" {
		t.Errorf("Credential(docker.io) = %v, %v; want hubuser from the helper", c, err)
	}
	// The helper knows nothing of quay.io: the next file is read.
	if c, err := s.Credential(t.Context(), "quay.io"); err != nil || c.Username != "config" {
		t.Errorf("Credential(quay.io) = %v, %v; want config from the next file", c, err)
	}
	_, err := s.Credential(t.Context(), "ghcr.io")
	var he *HelperError
	if !errors.As(err, &he) || he.Program != "docker-credential-missing-helper" {
		t.Errorf("Credential(ghcr.io) = %v, want the missing helper's *HelperError", err)
	}
}

func TestContainersAuthFileErrors(t *testing.T) {
	e := caTestSetup(t)
	caTestPut(t, e.config, `{"auths":{"quay.io":{"auth":"!!"}}}`)
	caTestPut(t, e.docker, caTestEntry("quay.io", "docker"))
	_, err := ContainersAuthFile().Credential(t.Context(), "quay.io")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Path != e.config || ce.Key != "quay.io" {
		t.Errorf("Credential = %v, want a *ConfigError naming %s entry quay.io", err, e.config)
	}
	if c, err := ContainersAuthFile().Credential(t.Context(), ""); err != nil || !c.IsZero() {
		t.Errorf("Credential(\"\") = %v, %v; want anonymous", c, err)
	}
	ctx, cancel := credTestCanceled(t)
	defer cancel()
	if _, err := ContainersAuthFile().Credential(ctx, "quay.io"); err == nil {
		t.Error("Credential(canceled) = nil error")
	}
	if got := fmt.Sprint(ContainersAuthFile()); got != "auth.ContainersAuthFile()" {
		t.Errorf("Sprint = %q", got)
	}
}

func TestContainersAuthFilePaths(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the search path of other systems differs")
	}
	t.Setenv("HOME", "/home/u")
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("DOCKER_CONFIG", "")
	want := []caPath{
		{path: "/run/containers/" + strconv.Itoa(os.Getuid()) + "/auth.json"},
		{path: "/home/u/.config/containers/auth.json"},
		{path: "/home/u/.docker/config.json"},
		{path: "/home/u/.dockercfg", legacy: true},
	}
	if got := caPaths(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("caPaths() = %v, want %v", got, want)
	}
	t.Setenv("HOME", "")
	if got := caPaths(); len(got) != 1 {
		t.Errorf("caPaths() without a home = %v, want only the runtime file", got)
	}
	t.Setenv("REGISTRY_AUTH_FILE", "/etc/auth.json")
	if got := caPaths(); fmt.Sprint(got) != fmt.Sprint([]caPath{{path: "/etc/auth.json"}}) {
		t.Errorf("caPaths() with REGISTRY_AUTH_FILE = %v, want it alone", got)
	}
}

func TestCaKeyHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, want string }{
		{key: "quay.io", want: "quay.io"},
		{key: "quay.io/team", want: ""},
		{key: "https://quay.io/v1/", want: "quay.io"},
		{key: "localhost:5000", want: "localhost:5000"},
		{key: "localhost:5000/ns", want: ""},
		{key: "docker.io", want: "docker.io"},
	}
	for _, tc := range tests {
		if got := caKeyHost(tc.key); got != tc.want {
			t.Errorf("caKeyHost(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}
