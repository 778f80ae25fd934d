package e2e

import (
	"testing"

	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

func newClient(t *testing.T, host string) *remote.Client {
	t.Helper()
	c, err := remote.New(host)
	if err != nil {
		t.Fatalf("remote.New(%s) = %v", host, err)
	}
	return c
}

// TestBehaviourFakeHTTP runs the behaviour suite through the HTTP client
// against the fake registry served over HTTP.
func TestBehaviourFakeHTTP(t *testing.T) {
	srv := fake.Serve(t)
	c := newClient(t, srv.Host)
	registrytest.Run(t, func(t *testing.T) transport.Transport { return c })
}

// TestBehaviourDistribution runs the behaviour suite through the HTTP client
// against a real registry: Debian's docker-registry.
func TestBehaviourDistribution(t *testing.T) {
	host := regtest.Distribution(t, "")
	c := newClient(t, host)
	// The distribution registry 2.x refuses a manifest put by a sha512
	// digest (sha512 blobs work).
	registrytest.RunWith(t, func(t *testing.T) transport.Transport { return c },
		registrytest.Capabilities{NoSHA512Manifests: true})
}
