package auth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// ContainersAuthFile returns a [CredentialStore] that reads credentials as podman,
// buildah and skopeo do (containers-auth.json(5)). For a host it reads, in
// order, the first of these files that gives a credential:
//
//  1. $REGISTRY_AUTH_FILE, and nothing else when it is set (as podman's
//     --authfile, whose default it is);
//  2. $XDG_RUNTIME_DIR/containers/auth.json, or /run/containers/<uid>/auth.json
//     when XDG_RUNTIME_DIR is not set (~/.config/containers/auth.json on
//     systems other than Linux);
//  3. $XDG_CONFIG_HOME/containers/auth.json (~/.config/containers/auth.json);
//  4. Docker's $DOCKER_CONFIG/config.json, or ~/.docker/config.json;
//  5. ~/.dockercfg, Docker's legacy format.
//
// Missing files are skipped; a malformed one is an error (a [*ConfigError]).
// In each file the "credHelpers" entry of the host, if any, names the
// credential helper to ask (see [Helper]); otherwise the host's "auths"
// entry is used. Like podman, this store ignores "credsStore", also in
// Docker's config.json: use [FromDockerConfig] for Docker's behaviour.
//
// An auth.json key is a host ("quay.io", "docker.io", or a URL such as
// "https://index.docker.io/v1/") or a repository namespace
// ("quay.io/team" or "quay.io/team/app"). A CredentialStore answers for a whole host,
// so namespaced keys are never used: their credential is meant only for the
// repositories below them. When several keys name the host, the ranking is
// that of [DockerConfigStore].
//
// The environment is read and the files are read on every call, so the
// store does no I/O until it is used and always sees the current files. It
// is safe for concurrent use.
func ContainersAuthFile() CredentialStore { return containersStore{} }

// containersStore is the CredentialStore of [ContainersAuthFile].
type containersStore struct{}

var _ CredentialStore = containersStore{}

// caPath is a file to search.
type caPath struct {
	path   string
	legacy bool
}

// String describes the store.
func (containersStore) String() string { return "auth.ContainersAuthFile()" }

// Credential returns the credential of host from the first file that has
// one.
func (containersStore) Credential(ctx context.Context, host string) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, err
	}
	h := credHost(host)
	if h == "" {
		return Credential{}, nil
	}
	for _, p := range caPaths() {
		f, err := dcRead(p.path, p.legacy)
		if err != nil {
			return Credential{}, err
		}
		if name, ok := f.credHelpers[h]; ok && name != "" {
			c, err := Helper(name).Credential(ctx, host)
			if err != nil {
				return Credential{}, fmt.Errorf("auth: credHelpers of %s: %w", p.path, err)
			}
			if !c.IsZero() {
				return c, nil
			}
			continue
		}
		if e, ok := f.entry(h, caKeyHost); ok && !e.cred.IsZero() {
			return e.cred, nil
		}
	}
	return Credential{}, nil
}

// caKeyHost returns the host an auth.json key names, or "" for a
// namespaced key ("quay.io/team"). A URL key names its host whatever its
// path.
func caKeyHost(key string) string {
	if strings.Contains(key, "://") || !strings.Contains(key, "/") {
		return credHost(key)
	}
	return ""
}

// caPaths returns the files to search, in order.
func caPaths() []caPath {
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		return []caPath{{path: p}}
	}
	home, _ := os.UserHomeDir()
	var paths []caPath
	add := func(p string, legacy bool) {
		for _, q := range paths {
			if q.path == p {
				return
			}
		}
		paths = append(paths, caPath{path: p, legacy: legacy})
	}
	switch {
	case runtime.GOOS != "linux":
		if home != "" {
			add(filepath.Join(home, ".config", "containers", "auth.json"), false)
		}
	case os.Getenv("XDG_RUNTIME_DIR") != "":
		add(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "containers", "auth.json"), false)
	default:
		add(filepath.Join("/run/containers", strconv.Itoa(os.Getuid()), "auth.json"), false)
	}
	if cfg := os.Getenv("XDG_CONFIG_HOME"); cfg != "" {
		add(filepath.Join(cfg, "containers", "auth.json"), false)
	} else if home != "" {
		add(filepath.Join(home, ".config", "containers", "auth.json"), false)
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		add(filepath.Join(d, "config.json"), false)
	} else if home != "" {
		add(filepath.Join(home, ".docker", "config.json"), false)
	}
	if home != "" {
		add(filepath.Join(home, ".dockercfg"), true)
	}
	return paths
}
