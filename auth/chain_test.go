package auth

import (
	"context"
	"errors"
	"testing"
)

func TestChain(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	alice := Credential{Username: "alice", Password: "a"}
	bob := Credential{Username: "bob", Password: "b"}
	failing := CredentialFunc(func(context.Context, string) (Credential, error) { return Credential{}, boom })
	tests := []struct {
		name    string
		stores  []CredentialStore
		host    string
		want    Credential
		wantErr error
	}{
		{name: "empty chain", stores: nil, host: "ghcr.io", want: Credential{}},
		{name: "first wins", stores: []CredentialStore{Static("ghcr.io", alice), Static("ghcr.io", bob)}, host: "ghcr.io", want: alice},
		{name: "skips anonymous", stores: []CredentialStore{Static("quay.io", alice), Static("ghcr.io", bob)}, host: "ghcr.io", want: bob},
		{name: "none knows the host", stores: []CredentialStore{Static("quay.io", alice), Static("ghcr.io", bob)}, host: "docker.io", want: Credential{}},
		{name: "nil stores skipped", stores: []CredentialStore{nil, Static("ghcr.io", bob), nil}, host: "ghcr.io", want: bob},
		{name: "error stops the chain", stores: []CredentialStore{Static("quay.io", alice), failing, Static("ghcr.io", bob)}, host: "ghcr.io", wantErr: boom},
		{name: "found before the error", stores: []CredentialStore{Static("ghcr.io", alice), failing}, host: "ghcr.io", want: alice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Chain(tc.stores...).Credential(t.Context(), tc.host)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("Chain.Credential(%q) = %v, %v; want %v, %v", tc.host, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestChainErrorNamesPlace(t *testing.T) {
	t.Parallel()
	asked := 0
	later := CredentialFunc(func(context.Context, string) (Credential, error) { asked++; return Credential{}, nil })
	failing := CredentialFunc(func(context.Context, string) (Credential, error) {
		return Credential{}, &ConfigError{Path: "/x/config.json", Err: errors.New("bad")}
	})
	_, err := Chain(Static("quay.io", Credential{Username: "a"}), failing, later).Credential(t.Context(), "ghcr.io")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Path != "/x/config.json" {
		t.Fatalf("Chain.Credential = %v, want a *ConfigError", err)
	}
	if want := "auth: store 2 of 3 in chain: auth: credentials file /x/config.json: bad"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if asked != 0 {
		t.Errorf("the store after the failing one was asked %d times, want 0", asked)
	}
}

func TestChainCopiesStores(t *testing.T) {
	t.Parallel()
	stores := []CredentialStore{Static("ghcr.io", Credential{Username: "alice"})}
	c := Chain(stores...)
	stores[0] = Static("ghcr.io", Credential{Username: "mallory"})
	if got, _ := c.Credential(t.Context(), "ghcr.io"); got.Username != "alice" {
		t.Errorf("Credential = %v after the caller's slice changed, want alice", got)
	}
}

func TestChainCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Chain(CredentialFunc(func(context.Context, string) (Credential, error) { return Credential{Username: "x"}, nil })).Credential(ctx, "ghcr.io")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Credential(canceled) = %v, want context.Canceled", err)
	}
}
