package registrytest_test

import (
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
)

// A test of your package runs the whole suite on your Transport. The factory
// is called once per check: return a new backend each time, or the same one
// (each check uses repository names of its own). Here the in-memory store
// stands in for your Transport.
func ExampleRun() {
	// In a _test.go file of your package:
	TestMyTransport := func(t *testing.T) {
		registrytest.Run(t, func(t *testing.T) transport.Transport {
			return fake.NewStore()
		})
	}
	_ = TestMyTransport
}

// A backend that lacks something a full registry has says so, and the suite
// leaves those checks out.
func ExampleRunWith() {
	// In a _test.go file of your package:
	TestMyTransport := func(t *testing.T) {
		registrytest.RunWith(t, func(t *testing.T) transport.Transport {
			return fake.NewStore()
		}, registrytest.Capabilities{NoCatalog: true, NoSHA512Manifests: true})
	}
	_ = TestMyTransport
}
