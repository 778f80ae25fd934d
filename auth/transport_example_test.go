package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
	"github.com/regkit/regkit/transport/server"
)

func ExampleNewRoundTripper() {
	// A registry that takes alice's password, with Basic auth.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="demo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		server.NewHandler(fake.NewStore()).ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	creds := auth.CredentialFunc(func(ctx context.Context, host string) (auth.Credential, error) {
		return auth.Credential{Username: "alice", Password: "s3cret"}, nil
	})
	client, err := remote.New(host, remote.WithRoundTripper(auth.NewRoundTripper(host, creds, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	page, err := client.ListRepositories(context.Background(), transport.PageRequest{})
	fmt.Println(len(page.Items), err)
	// Output: 0 <nil>
}

func ExampleWithScopes() {
	// Ask for push access with the first request of a push, so that one
	// token serves all of it.
	push := auth.Scope{Resource: "repository:myapp1", Actions: []string{"pull", "push"}}
	ctx := auth.WithScopes(context.Background(), push)
	_ = ctx // pass ctx to the push
	fmt.Println(push)
	// Output: repository:myapp1:pull,push
}

func ExampleParseChallenges() {
	cs, err := auth.ParseChallenges([]string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range cs {
		fmt.Println(c.Scheme, c.Params["realm"], c.Params["scope"])
	}
	// Output: bearer https://auth.docker.io/token repository:library/alpine:pull
}
