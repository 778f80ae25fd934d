package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Save records c as the credential of host, as docker login does, or
// forgets the host's credential when c is zero (docker logout).
//
// When the configuration sends host to a credential helper ("credHelpers",
// or "credsStore"), Save stores c in that helper (see [HelperStore.Save])
// and leaves the file alone. Otherwise it rewrites the file's "auths" entry
// of host: the entry found as [DockerConfigStore] finds it if there is one
// (keeping its key), else a new one under Docker's key for the host
// ("https://index.docker.io/v1/" for Docker Hub, else the host). A zero c
// removes every entry of host. The entry holds "auth" (base64 of
// "user:password"), "identitytoken" and "registrytoken" as c has them. Every
// other key of the file and every other entry is kept as it was.
//
// The file is written atomically (a temporary file in the same directory,
// then a rename; a symbolic link is followed) with mode 0600, and its
// directory is made (mode 0700) if needed. A Password without a Username is
// refused, as config.json cannot hold it.
func (s *DockerConfigStore) Save(ctx context.Context, host string, c Credential) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h := credHost(host)
	if h == "" {
		return errors.New("auth: docker config: save: empty host")
	}
	if c.Username == "" && c.Password != "" {
		return fmt.Errorf("auth: docker config: save %s: a password needs a username", h)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := s.resolve()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &ConfigError{Path: path, Err: err}
	}
	f, err := dcParse(path, data, false)
	if err != nil {
		return err
	}
	if name := f.helperFor(h); name != "" {
		return Helper(name).Save(ctx, host, c)
	}
	top := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &top); err != nil {
			return &ConfigError{Path: path, Err: fmt.Errorf("malformed JSON: %w", err)}
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := top["auths"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return &ConfigError{Path: path, Err: fmt.Errorf(`malformed "auths": %w`, err)}
		}
	}
	if c.IsZero() {
		for k := range auths {
			if credHost(k) == h {
				delete(auths, k)
			}
		}
	} else {
		key := credServerURL(h)
		if e, ok := f.entry(h, dcDockerKeyHost); ok {
			key = e.key
		}
		w := dcWireEntry{IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken}
		if c.Username != "" {
			w.Auth = base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
		}
		raw, err := json.Marshal(w)
		if err != nil {
			return err
		}
		auths[key] = raw
	}
	raw, err := json.Marshal(auths)
	if err != nil {
		return err
	}
	top["auths"] = raw
	out, err := json.MarshalIndent(top, "", "\t")
	if err != nil {
		return err
	}
	if err := dcWriteAtomic(path, append(out, '\n')); err != nil {
		return &ConfigError{Path: path, Err: err}
	}
	s.cache = nil
	return nil
}

// dcWriteAtomic replaces the file at path (following a symbolic link) with
// data, mode 0600, through a temporary file in the same directory, so that
// readers see the old file or the new one, never a part.
func dcWriteAtomic(path string, data []byte) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
