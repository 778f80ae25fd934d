package regkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
)

// tokenRequests returns the requests of a log that went to the token
// server, one "METHOD path" a line.
func tokenRequests(reqs []fake.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Route == fake.RouteToken {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// TestTokenRequestCounts counts the token-server requests of a push, a
// pull and a copy within one registry, each through a new client with a
// password, as a program that runs once does: one token request each,
// which asks for every scope the operation needs (docker's count).
func TestTokenRequestCounts(t *testing.T) {
	t.Parallel()
	users := map[string]string{"alice": "s3cret"}
	creds := func(host string) registry.Option {
		return registry.WithAuth(auth.Static(host, auth.Credential{Username: "alice", Password: "s3cret"}))
	}
	tests := []struct {
		name string
		run  func(ctx context.Context, t *testing.T, reg *registry.Registry, open func() *registry.Registry)
		want int // token requests, all GET
	}{
		{"push to a new repository", func(ctx context.Context, t *testing.T, reg *registry.Registry, open func() *registry.Registry) {
			_, err := reg.Repository("team/new").Push(ctx, testImage(t, "new", "linux/amd64", 3, false), "1.0")
			require.NoError(t, err)
		}, 1},
		{"pull", func(ctx context.Context, t *testing.T, reg *registry.Registry, open func() *registry.Registry) {
			img, err := reg.Repository("team/app").Tag("1.0").Image(ctx)
			require.NoError(t, err)
			for _, l := range img.Layers() {
				rc, err := l.Open(ctx)
				require.NoError(t, err)
				require.NoError(t, rc.Close())
			}
		}, 1},
		{"copy within the registry", func(ctx context.Context, t *testing.T, reg *registry.Registry, open func() *registry.Registry) {
			rep, err := regkit.Copy(ctx, reg.Repository("team/app"), "1.0", reg.Repository("team/copy"), nil)
			require.NoError(t, err)
			require.Equal(t, 4, rep.Count(regkit.Mounted))
		}, 1},
		{"copy between two clients of the registry", func(ctx context.Context, t *testing.T, reg *registry.Registry, open func() *registry.Registry) {
			// Each client has its own tokens: one request each.
			rep, err := regkit.Copy(ctx, reg.Repository("team/app"), "1.0", open().Repository("team/copy"), nil)
			require.NoError(t, err)
			require.Equal(t, 4, rep.Count(regkit.Mounted))
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv := fake.Serve(t, fake.WithTokenAuth(users))
			seed, err := registry.New(srv.Host, creds(srv.Host))
			require.NoError(t, err)
			_, err = seed.Repository("team/app").Push(ctx, testImage(t, "app", "linux/amd64", 3, false), "1.0")
			require.NoError(t, err)

			srv.ResetRequests()
			open := func() *registry.Registry {
				reg, err := registry.New(srv.Host, creds(srv.Host))
				require.NoError(t, err)
				return reg
			}
			tc.run(ctx, t, open(), open)
			reqs := srv.Requests()
			tok := tokenRequests(reqs)
			t.Logf("%s: %d requests, %d to the token server: %s", tc.name, len(reqs), len(tok), strings.Join(tok, ", "))
			want := make([]string, tc.want)
			for i := range want {
				want[i] = "GET /token"
			}
			require.Equal(t, want, tok, "token requests; all requests:\n%s", requestLines(reqs))
		})
	}
}
