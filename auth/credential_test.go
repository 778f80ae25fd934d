package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// credSecrets are the secret values of credFull.
var credSecrets = []string{"pa55word", "refresh-s3cret", "bearer-s3cret"}

var credFull = Credential{Username: "alice", Password: "pa55word", IdentityToken: "refresh-s3cret", RegistryToken: "bearer-s3cret"}

// credAssertNoSecret fails when s holds a secret of credFull.
func credAssertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range credSecrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s = %q, which shows the secret %q", what, s, sec)
		}
	}
}

func TestCredentialIsZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Credential
		want bool
	}{
		{name: "zero", c: Credential{}, want: true},
		{name: "username only", c: Credential{Username: "a"}, want: false},
		{name: "password only", c: Credential{Password: "p"}, want: false},
		{name: "identity token", c: Credential{IdentityToken: "t"}, want: false},
		{name: "registry token", c: Credential{RegistryToken: "t"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.c.IsZero(); got != tc.want {
				t.Errorf("%v.IsZero() = %v, want %v", tc.c, got, tc.want)
			}
		})
	}
}

func TestCredentialString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Credential
		want string
	}{
		{name: "anonymous", c: Credential{}, want: "{anonymous}"},
		{name: "user and password", c: Credential{Username: "alice", Password: "pa55word"}, want: "{user alice, password ***}"},
		{name: "identity token", c: Credential{Username: "alice", IdentityToken: "refresh-s3cret"}, want: "{user alice, identity token ***}"},
		{name: "registry token", c: Credential{RegistryToken: "bearer-s3cret"}, want: "{registry token ***}"},
		{name: "everything", c: credFull, want: "{user alice, password ***, identity token ***, registry token ***}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.c.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if got := tc.c.GoString(); got != tc.want {
				t.Errorf("GoString() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCredentialFormatHidesSecrets(t *testing.T) {
	t.Parallel()
	wrapped := struct {
		Name string
		Cred Credential
		Ptr  *Credential
	}{"w", credFull, &credFull}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%10v", "%T %v"} {
		for _, arg := range []any{credFull, &credFull, wrapped, []Credential{credFull}, map[string]Credential{"h": credFull}} {
			got := fmt.Sprintf(verb, arg)
			credAssertNoSecret(t, fmt.Sprintf("Sprintf(%q, %T)", verb, arg), got)
		}
	}
	if got, want := fmt.Sprintf("%v", Credential{Username: "bob", Password: "x"}), "{user bob, password ***}"; got != want {
		t.Errorf("Sprintf(%%v) = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%q", Credential{}), `"{anonymous}"`; got != want {
		t.Errorf("Sprintf(%%q) = %q, want %q", got, want)
	}
	err := fmt.Errorf("login with %v: %w", credFull, errors.New("boom"))
	credAssertNoSecret(t, "error", err.Error())
}

func TestCredentialFunc(t *testing.T) {
	t.Parallel()
	var s CredentialStore = CredentialFunc(func(_ context.Context, host string) (Credential, error) {
		if host == "bad" {
			return Credential{}, errors.New("bad host")
		}
		return Credential{Username: host}, nil
	})
	c, err := s.Credential(t.Context(), "ghcr.io")
	if err != nil || c.Username != "ghcr.io" {
		t.Errorf("Credential(ghcr.io) = %v, %v; want user ghcr.io, nil", c, err)
	}
	if _, err := s.Credential(t.Context(), "bad"); err == nil {
		t.Error("Credential(bad) = nil error, want the function's error")
	}
}

func TestCredHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, url string }{
		{in: "docker.io", want: "docker.io", url: "https://index.docker.io/v1/"},
		{in: "index.docker.io", want: "docker.io", url: "https://index.docker.io/v1/"},
		{in: "registry-1.docker.io", want: "docker.io", url: "https://index.docker.io/v1/"},
		{in: "https://index.docker.io/v1/", want: "docker.io", url: "https://index.docker.io/v1/"},
		{in: "Docker.IO", want: "docker.io", url: "https://index.docker.io/v1/"},
		{in: "GHCR.io", want: "ghcr.io", url: "ghcr.io"},
		{in: "http://localhost:5000", want: "localhost:5000", url: "localhost:5000"},
		{in: "https://ghcr.io/v2/", want: "ghcr.io", url: "ghcr.io"},
		{in: "quay.io/team/app", want: "quay.io", url: "quay.io"},
		{in: " ghcr.io ", want: "ghcr.io", url: "ghcr.io"},
		{in: "", want: "", url: ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := credHost(tc.in); got != tc.want {
				t.Errorf("credHost(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := credServerURL(tc.in); got != tc.url {
				t.Errorf("credServerURL(%q) = %q, want %q", tc.in, got, tc.url)
			}
		})
	}
}

// credTestCanceled returns a context that is already canceled.
func credTestCanceled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}
