package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
)

var authUsers = map[string]string{"alice": "wonderland", "bob": "builder"}

// authTarget is a registry that demands credentials.
type authTarget struct {
	name string
	// start starts the registry with authUsers, grants (none: every user
	// may do everything) and returns its host.
	start func(t *testing.T, grants ...regtest.Grant) string
	caps  registrytest.Capabilities
}

func fakeTarget(name string, mode func(map[string]string) fake.ServerOption) authTarget {
	return authTarget{name: name, start: func(t *testing.T, grants ...regtest.Grant) string {
		opts := []fake.ServerOption{mode(authUsers)}
		for _, g := range grants {
			opts = append(opts, fake.WithGrant(g.User, g.Repository, g.Actions...))
		}
		return fake.Serve(t, opts...).Host
	}}
}

var authTargets = []authTarget{
	fakeTarget("fake basic", fake.WithBasicAuth),
	fakeTarget("fake token", fake.WithTokenAuth),
	{name: "docker-registry htpasswd", start: func(t *testing.T, grants ...regtest.Grant) string {
		if len(grants) > 0 {
			t.Fatal("htpasswd has no grants")
		}
		return regtest.DistributionBasic(t, authUsers)
	}, caps: registrytest.Capabilities{NoSHA512Manifests: true}},
	{name: "docker-registry token", start: func(t *testing.T, grants ...regtest.Grant) string {
		return regtest.DistributionToken(t, authUsers, grants...)
	}, caps: registrytest.Capabilities{NoSHA512Manifests: true}},
}

// asUser returns the registry at host spoken to as user (anonymous for "").
func asUser(t *testing.T, host, user string) *registry.Registry {
	t.Helper()
	var creds auth.CredentialStore
	if user != "" {
		creds = auth.Static(host, auth.Credential{Username: user, Password: authUsers[user]})
	}
	reg, err := registry.New(host, registry.WithAuth(creds))
	require.NoError(t, err)
	return reg
}

// TestBehaviourWithAuth runs the behaviour suite through registry.WithAuth
// against the fake registry and docker-registry, each behind Basic and
// behind token authentication.
func TestBehaviourWithAuth(t *testing.T) {
	for _, tc := range authTargets {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.start(t)
			tr := asUser(t, host, "alice").Transport()
			registrytest.RunWith(t, func(t *testing.T) transport.Transport { return tr }, tc.caps)
		})
	}
}

// TestAuthGrants shows a user who may pull myapp1 but not push it, and that
// a refused push leaves nothing behind.
func TestAuthGrants(t *testing.T) {
	grants := []regtest.Grant{
		{User: "alice", Repository: "*", Actions: []string{"*"}},
		{User: "bob", Repository: "myapp1", Actions: []string{"pull"}},
	}
	for _, tc := range authTargets {
		if tc.name == "docker-registry htpasswd" {
			continue // htpasswd lets every user do everything
		}
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			host := tc.start(t, grants...)
			v1 := appImage(t, "myapp1", "1.0", 2)
			desc, err := asUser(t, host, "alice").Repository("myapp1").Push(ctx, v1, "1.0")
			require.NoError(t, err)

			bob := asUser(t, host, "bob").Repository("myapp1")
			got, err := bob.Tag("1.0").Image(ctx)
			require.NoError(t, err, "bob pulls myapp1:1.0")
			assert.Equal(t, desc.Digest, got.Descriptor().Digest)

			v2 := appImage(t, "myapp1", "2.0", 2)
			_, err = bob.Push(ctx, v2, "2.0")
			require.Error(t, err, "bob pushes myapp1:2.0")
			t.Logf("bob pushes myapp1:2.0: %v", err)
			assert.ErrorIs(t, err, transport.ErrDenied, "bob's push")
			_, err = asUser(t, host, "alice").Repository("myapp1").Resolve(ctx, "2.0")
			assert.ErrorIs(t, err, transport.ErrNotFound, "myapp1:2.0 after bob's refused push")
			had := map[digest.Digest]bool{}
			for _, b := range v1.Blobs() {
				had[b.Descriptor().Digest] = true
			}
			for _, b := range v2.Blobs() {
				if d := b.Descriptor(); !had[d.Digest] {
					_, err := asUser(t, host, "alice").Repository("myapp1").Blob(ctx, d)
					assert.ErrorIs(t, err, transport.ErrNotFound, "blob %s of the refused push", d.Digest)
				}
			}

			anon := asUser(t, host, "").Repository("myapp1")
			_, err = anon.Resolve(ctx, "1.0")
			assert.True(t, errorsIsAny(err, transport.ErrDenied, transport.ErrUnauthorized),
				"anonymous resolve: %v, want ErrDenied or ErrUnauthorized", err)
		})
	}
}

// TestAuthWrongPassword checks Login and a registry.WithAuth push with a
// wrong password against each target: both fail with ErrUnauthorized.
func TestAuthWrongPassword(t *testing.T) {
	for _, tc := range authTargets {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			host := tc.start(t)
			require.NoError(t, auth.Login(ctx, host, auth.Credential{Username: "alice", Password: "wonderland"}, nil))
			wrong := auth.Credential{Username: "alice", Password: "looking-glass"}
			err := auth.Login(ctx, host, wrong, nil)
			assert.ErrorIs(t, err, transport.ErrUnauthorized)
			if err != nil {
				assert.NotContains(t, err.Error(), "looking-glass", "the error shows the password")
			}

			reg, err := registry.New(host, registry.WithAuth(auth.Static(host, wrong)))
			require.NoError(t, err)
			_, err = reg.Repository("myapp1").Push(ctx, appImage(t, "myapp1", "1.0", 1), "1.0")
			assert.ErrorIs(t, err, transport.ErrUnauthorized)
			if err != nil {
				assert.NotContains(t, err.Error(), "looking-glass", "the error shows the password")
			}
		})
	}
}

// TestSkopeoLoginFileIsRead has skopeo log in to docker-registry behind
// htpasswd, writing its auth file as podman and skopeo do, and regkit push
// with the credential it finds there, through ContainersAuthFile and
// through the Docker config reader (the formats are the same). skopeo then
// reads what regkit pushed.
func TestSkopeoLoginFileIsRead(t *testing.T) {
	regtest.Tool(t, "skopeo")
	ctx := t.Context()
	host := regtest.DistributionBasic(t, authUsers)
	file := filepath.Join(t.TempDir(), "auth.json")
	regtest.Run(t, "skopeo", "login", "--tls-verify=false", "--authfile", file, "-u", "bob", "-p", authUsers["bob"], host)
	fi, err := os.Stat(file)
	require.NoError(t, err)
	t.Logf("skopeo wrote %s (%v)", file, fi.Mode())

	t.Setenv("REGISTRY_AUTH_FILE", file)
	docker, err := auth.DockerConfig(file)
	require.NoError(t, err)
	for name, store := range map[string]auth.CredentialStore{"containers": auth.ContainersAuthFile(), "docker": docker} {
		cred, err := store.Credential(ctx, host)
		require.NoError(t, err, name)
		assert.Equal(t, "bob", cred.Username, name)

		reg, err := registry.New(host, registry.WithAuth(store))
		require.NoError(t, err)
		img := appImage(t, "myapp1", name, 1)
		desc, err := reg.Repository("myapp1").Push(ctx, img, name)
		require.NoError(t, err, "push with the %s store", name)

		var inspect struct{ Digest string }
		out := regtest.Run(t, "skopeo", "inspect", "--tls-verify=false", "--authfile", file, "docker://"+host+"/myapp1:"+name)
		require.NoError(t, json.Unmarshal([]byte(out), &inspect))
		assert.Equal(t, desc.Digest.String(), inspect.Digest, "skopeo inspect of what regkit pushed")
	}
}

// errorsIsAny reports whether err matches one of targets.
func errorsIsAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
