package auth

import (
	"context"
	"fmt"
	"testing"
)

func TestStatic(t *testing.T) {
	t.Parallel()
	alice := Credential{Username: "alice", Password: "pa55word"}
	tests := []struct {
		name, storeHost, host string
		want                  Credential
	}{
		{name: "same host", storeHost: "ghcr.io", host: "ghcr.io", want: alice},
		{name: "case differs", storeHost: "GHCR.io", host: "ghcr.IO", want: alice},
		{name: "other host", storeHost: "ghcr.io", host: "quay.io", want: Credential{}},
		{name: "subdomain is another host", storeHost: "example.com", host: "evil.example.com", want: Credential{}},
		{name: "suffix is another host", storeHost: "ghcr.io", host: "ghcr.io.evil.com", want: Credential{}},
		{name: "port differs", storeHost: "localhost:5000", host: "localhost:5001", want: Credential{}},
		{name: "port matches", storeHost: "localhost:5000", host: "localhost:5000", want: alice},
		{name: "no port is another host", storeHost: "localhost:5000", host: "localhost", want: Credential{}},
		{name: "hub docker.io for index", storeHost: "docker.io", host: "index.docker.io", want: alice},
		{name: "hub registry-1 for docker.io", storeHost: "registry-1.docker.io", host: "docker.io", want: alice},
		{name: "hub URL", storeHost: "https://index.docker.io/v1/", host: "registry-1.docker.io", want: alice},
		{name: "scheme ignored", storeHost: "https://ghcr.io", host: "ghcr.io", want: alice},
		{name: "empty host", storeHost: "ghcr.io", host: "", want: Credential{}},
		{name: "empty store host", storeHost: "", host: "", want: Credential{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Static(tc.storeHost, alice).Credential(t.Context(), tc.host)
			if err != nil || got != tc.want {
				t.Errorf("Static(%q).Credential(%q) = %v, %v; want %v, nil", tc.storeHost, tc.host, got, err, tc.want)
			}
		})
	}
}

func TestStaticCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Static("ghcr.io", Credential{Username: "a"}).Credential(ctx, "ghcr.io"); err == nil {
		t.Error("Credential(canceled ctx) = nil error, want context.Canceled")
	}
}

func TestStaticHidesSecrets(t *testing.T) {
	t.Parallel()
	s := Static("ghcr.io", credFull)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		credAssertNoSecret(t, "Sprintf("+verb+", Static)", fmt.Sprintf(verb, s))
	}
	if got, want := fmt.Sprint(s), "auth.Static(ghcr.io, {user alice, password ***, identity token ***, registry token ***})"; got != want {
		t.Errorf("Sprint(Static) = %q, want %q", got, want)
	}
}
