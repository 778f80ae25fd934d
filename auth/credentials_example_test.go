package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/transport"
)

func ExampleCredential_String() {
	c := auth.Credential{Username: "alice", Password: "s3cret"}
	fmt.Println(c)
	fmt.Printf("%#v\n", c)
	fmt.Println(auth.Credential{})
	// Output:
	// {user alice, password ***}
	// {user alice, password ***}
	// {anonymous}
}

func ExampleStatic() {
	s := auth.Static("ghcr.io", auth.Credential{Username: "alice", Password: "s3cret"})
	for _, host := range []string{"ghcr.io", "quay.io"} {
		c, _ := s.Credential(context.Background(), host)
		fmt.Println(host, c)
	}
	// Output:
	// ghcr.io {user alice, password ***}
	// quay.io {anonymous}
}

func ExampleChain() {
	// Credentials from the environment first, then a fixed one. Real
	// programs chain auth.FromDockerConfig() and auth.ContainersAuthFile().
	fromEnv := auth.CredentialFunc(func(_ context.Context, host string) (auth.Credential, error) {
		if host != "ci.example" {
			return auth.Credential{}, nil
		}
		return auth.Credential{Username: "ci", Password: "from-env"}, nil
	})
	s := auth.Chain(fromEnv, auth.Static("ghcr.io", auth.Credential{Username: "alice", Password: "s3cret"}))
	for _, host := range []string{"ci.example", "ghcr.io", "docker.io"} {
		c, err := s.Credential(context.Background(), host)
		fmt.Println(host, c, err)
	}
	// Output:
	// ci.example {user ci, password ***} <nil>
	// ghcr.io {user alice, password ***} <nil>
	// docker.io {anonymous} <nil>
}

func ExampleDockerConfig() {
	dir, _ := os.MkdirTemp("", "docker")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.json")
	// "auth" is the base64 of "alice:s3cret".
	_ = os.WriteFile(path, []byte(`{"auths": {"https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcmV0"}}}`), 0o600)

	s, err := auth.DockerConfig(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := s.Credential(context.Background(), "docker.io")
	fmt.Println(c)

	// docker login ghcr.io
	if err := s.Save(context.Background(), "ghcr.io", auth.Credential{Username: "bob", Password: "t0ken"}); err != nil {
		fmt.Println(err)
		return
	}
	c, _ = s.Credential(context.Background(), "ghcr.io")
	fmt.Println(c)
	// Output:
	// {user alice, password ***}
	// {user bob, password ***}
}

func ExampleLogin() {
	// A registry that wants alice's password with Basic authentication.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="example"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://") // a loopback host: plain HTTP

	err := auth.Login(context.Background(), host, auth.Credential{Username: "alice", Password: "s3cret"}, nil)
	fmt.Println(err)
	err = auth.Login(context.Background(), host, auth.Credential{Username: "alice", Password: "wrong"}, nil)
	fmt.Println(errors.Is(err, transport.ErrUnauthorized))
	// Output:
	// <nil>
	// true
}
