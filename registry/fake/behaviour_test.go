package fake_test

import (
	"testing"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
)

// TestBehaviour runs regkit's behaviour suite against the in-memory store,
// a fresh one per test.
func TestBehaviour(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) transport.Transport { return fake.NewStore() })
}

// TestBehaviourShared runs the suite with one store shared by every test, as
// a real registry would be.
func TestBehaviourShared(t *testing.T) {
	s := fake.NewStore()
	registrytest.Run(t, func(t *testing.T) transport.Transport { return s })
}
