package auth

import (
	"context"
	"fmt"
	"io"
)

// Static returns a [CredentialStore] that gives c for host and the zero Credential
// (anonymous) for every other host, so that c is never sent elsewhere.
//
// Hosts are compared without regard to case, any scheme or path of host is
// ignored, and the Docker Hub names ("docker.io", "index.docker.io",
// "registry-1.docker.io") are one host. A port is part of the host:
// "localhost:5000" does not match "localhost:5001". The store does no I/O and
// is safe for concurrent use.
func Static(host string, c Credential) CredentialStore {
	return &staticStore{host: credHost(host), c: c}
}

// staticStore is the CredentialStore of [Static].
type staticStore struct {
	host string
	c    Credential
}

var _ CredentialStore = (*staticStore)(nil)

// Credential returns the credential for host.
func (s *staticStore) Credential(ctx context.Context, host string) (Credential, error) {
	if err := ctx.Err(); err != nil {
		return Credential{}, err
	}
	if s.host == "" || credHost(host) != s.host {
		return Credential{}, nil
	}
	return s.c, nil
}

// String describes the store without its secrets.
func (s *staticStore) String() string { return fmt.Sprintf("auth.Static(%s, %v)", s.host, s.c) }

// Format writes String for every verb, so that no verb prints a secret.
func (s *staticStore) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
