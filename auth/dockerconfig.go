package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ConfigError is a credentials file (Docker's config.json, containers'
// auth.json) that cannot be read or parsed. It never holds a secret.
type ConfigError struct {
	// Path is the file.
	Path string
	// Key is the entry of "auths" at fault, as written in the file, or ""
	// when the fault is not in one entry.
	Key string
	// Err is what is wrong.
	Err error
}

// Error names the file, the entry if any, and the fault.
func (e *ConfigError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("auth: credentials file %s: entry %q: %v", e.Path, e.Key, e.Err)
	}
	return fmt.Sprintf("auth: credentials file %s: %v", e.Path, e.Err)
}

// Unwrap returns the fault.
func (e *ConfigError) Unwrap() error { return e.Err }

// DockerConfigStore is a [CredentialStore] over a Docker config.json file. For a host
// it asks, in this order (as the docker CLI does):
//
//  1. the credential helper that "credHelpers" names for the host (an
//     empty name sends the host to "auths");
//  2. the helper "credsStore" names, for every other host: the "auths"
//     entries are then not used;
//  3. the "auths" entry of the host.
//
// A helper is run as described at [Helper].
//
// An "auths" entry is keyed by host or by URL ("ghcr.io",
// "http://localhost:5000", "https://index.docker.io/v1/" for Docker Hub);
// any scheme and path of a key are ignored, case does not matter, and the
// Docker Hub names are one host. When several keys name the host, an
// entry holding a credential beats an empty one ("{}", which docker writes
// next to helpers), then Docker's own key for the host ("ghcr.io",
// "https://index.docker.io/v1/") beats the others, then the first key in
// lexical order wins. An entry gives "auth" (base64 of "user:password",
// which wins over "username" and "password"), "username", "password",
// "identitytoken" and "registrytoken"; other fields are ignored.
//
// The file is parsed once and parsed again when it changes (its size or
// modification time), so a later docker login is seen. A missing file has no
// credentials. A malformed file is a [*ConfigError] naming the file and the
// entry at fault. As for docker, a configured helper that is not installed
// is an error (a [*HelperError] matching [os/exec.ErrNotFound]), not anonymous.
// [DockerConfigStore.Save] writes a credential back, as docker login does.
// A DockerConfigStore is safe for concurrent use.
//
// DOCKER_AUTH_CONFIG (credentials in the environment, docker CLI v28) and
// the legacy ~/.dockercfg are not read; [ContainersAuthFile] reads the
// latter.
type DockerConfigStore struct {
	mu       sync.Mutex
	resolved bool // path is known; else it is found on first use
	path     string
	cache    *dcFile
	stamp    dcStamp
}

var _ CredentialStore = (*DockerConfigStore)(nil)

// dcStamp tells whether a file changed since it was parsed.
type dcStamp struct {
	exists bool
	mod    time.Time
	size   int64
}

// DockerConfig returns the store of the config.json at path, which it reads
// at once: a malformed file is an error (a [*ConfigError]), a missing one is
// an empty configuration.
func DockerConfig(path string) (*DockerConfigStore, error) {
	s := &DockerConfigStore{path: path, resolved: true}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// FromDockerConfig returns the store of the user's Docker configuration:
// $DOCKER_CONFIG/config.json, or ~/.docker/config.json when DOCKER_CONFIG is
// not set. It does no I/O: the file is found and read on first use, and its
// errors are returned by [DockerConfigStore.Credential].
func FromDockerConfig() *DockerConfigStore {
	return &DockerConfigStore{}
}

// Path returns the file of the store, or "" when FromDockerConfig cannot
// tell (no $DOCKER_CONFIG and no home directory).
func (s *DockerConfigStore) Path() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, _ := s.resolve()
	return p
}

// String describes the store: its file, never a secret.
func (s *DockerConfigStore) String() string {
	if p := s.Path(); p != "" {
		return "auth.DockerConfig(" + p + ")"
	}
	return "auth.FromDockerConfig()"
}

// Format writes String for every verb, so that no verb prints a secret.
func (s *DockerConfigStore) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// Credential returns the credential for host, from a credential helper or
// the file. See [DockerConfigStore] for the order.
func (s *DockerConfigStore) Credential(ctx context.Context, host string) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, err
	}
	f, err := s.loadLocked()
	if err != nil {
		return Credential{}, err
	}
	h := credHost(host)
	if h == "" {
		return Credential{}, nil
	}
	if name := f.helperFor(h); name != "" {
		return Helper(name).Credential(ctx, host)
	}
	e, _ := f.entry(h, dcDockerKeyHost)
	return e.cred, nil
}

// resolve returns the path of the file, finding it on first use. s.mu is
// held.
func (s *DockerConfigStore) resolve() (string, error) {
	if s.resolved {
		return s.path, nil
	}
	p, err := dcDefaultPath()
	if err != nil {
		return "", err
	}
	s.path, s.resolved = p, true
	return p, nil
}

// dcDefaultPath returns $DOCKER_CONFIG/config.json or
// ~/.docker/config.json.
func dcDefaultPath() (string, error) {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("auth: docker config: $DOCKER_CONFIG is not set and %w", err)
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

func (s *DockerConfigStore) loadLocked() (*dcFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

// load returns the parsed file, parsing it again when it changed. s.mu is
// held (or s is not shared yet).
func (s *DockerConfigStore) load() (*dcFile, error) {
	path, err := s.resolve()
	if err != nil {
		return nil, err
	}
	var st dcStamp
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		st = dcStamp{exists: true, mod: fi.ModTime(), size: fi.Size()}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, &ConfigError{Path: path, Err: err}
	}
	if s.cache != nil && st == s.stamp {
		return s.cache, nil
	}
	f, err := dcRead(path, false)
	if err != nil {
		return nil, err
	}
	s.cache, s.stamp = f, st
	return f, nil
}

// dcFile is a parsed config.json, auth.json or legacy .dockercfg.
type dcFile struct {
	path        string
	entries     []dcEntry // in lexical order of their keys
	credsStore  string
	credHelpers map[string]string // canonical host -> helper name
}

// dcEntry is an entry of "auths".
type dcEntry struct {
	key  string
	cred Credential
}

// dcWireEntry is an entry of "auths" as written.
type dcWireEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// dcRead reads and parses the file at path; a missing file is an empty
// one. legacy is the .dockercfg format, whose top level is "auths".
func dcRead(path string, legacy bool) (*dcFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &dcFile{path: path}, nil
	}
	if err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	return dcParse(path, data, legacy)
}

// dcParse parses a credentials file. Every "auths" entry is decoded, so a
// malformed one fails the file, as it does for docker.
func dcParse(path string, data []byte, legacy bool) (*dcFile, error) {
	f := &dcFile{path: path}
	if len(bytes.TrimSpace(data)) == 0 {
		return f, nil
	}
	var wire struct {
		Auths       map[string]json.RawMessage `json:"auths"`
		CredsStore  string                     `json:"credsStore"`
		CredHelpers map[string]string          `json:"credHelpers"`
	}
	var err error
	if legacy {
		err = json.Unmarshal(data, &wire.Auths)
	} else {
		err = json.Unmarshal(data, &wire)
	}
	if err != nil {
		return nil, &ConfigError{Path: path, Err: fmt.Errorf("malformed JSON: %w", err)}
	}
	f.credsStore = wire.CredsStore
	for k, name := range wire.CredHelpers {
		if f.credHelpers == nil {
			f.credHelpers = make(map[string]string)
		}
		f.credHelpers[credHost(k)] = name
	}
	for k, raw := range wire.Auths {
		c, err := dcDecodeEntry(raw)
		if err != nil {
			return nil, &ConfigError{Path: path, Key: k, Err: err}
		}
		f.entries = append(f.entries, dcEntry{key: k, cred: c})
	}
	slices.SortFunc(f.entries, func(a, b dcEntry) int { return strings.Compare(a.key, b.key) })
	return f, nil
}

// dcDecodeEntry decodes an "auths" entry. Its errors never hold a secret.
func dcDecodeEntry(raw json.RawMessage) (Credential, error) {
	var w dcWireEntry
	if err := json.Unmarshal(raw, &w); err != nil {
		return Credential{}, fmt.Errorf("malformed JSON: %w", err)
	}
	c := Credential{Username: w.Username, Password: w.Password, IdentityToken: w.IdentityToken, RegistryToken: w.RegistryToken}
	if w.Auth == "" {
		return c, nil
	}
	dec, err := base64.StdEncoding.DecodeString(w.Auth)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(w.Auth); err != nil {
			return Credential{}, errors.New(`"auth" is not valid base64`)
		}
	}
	user, pass, ok := strings.Cut(string(dec), ":")
	if !ok || user == "" {
		return Credential{}, errors.New(`"auth" does not decode to user:password`)
	}
	c.Username, c.Password = user, strings.Trim(pass, "\x00")
	return c, nil
}

// helperFor returns the credential helper of host h: its credHelpers entry,
// else credsStore, else "" (the file itself). As for docker, a credHelpers
// entry of "" sends the host to the file even when credsStore is set.
func (f *dcFile) helperFor(h string) string {
	if name, ok := f.credHelpers[h]; ok {
		return name
	}
	return f.credsStore
}

// dcDockerKeyHost returns the host an "auths" key names, as docker reads
// it: any scheme and path are dropped.
func dcDockerKeyHost(key string) string { return credHost(key) }

// entry returns the best entry of f for canonical host h, with keyHost
// telling which host a key names ("" for none). See [DockerConfigStore]
// for the ranking.
func (f *dcFile) entry(h string, keyHost func(string) string) (dcEntry, bool) {
	var best dcEntry
	bestRank, found := 0, false
	for _, e := range f.entries {
		if keyHost(e.key) != h {
			continue
		}
		rank := 0
		if e.cred.IsZero() {
			rank += 2
		}
		if strings.ToLower(e.key) != credServerURL(h) {
			rank++
		}
		if !found || rank < bestRank {
			best, bestRank, found = e, rank, true
		}
	}
	return best, found
}
