package ocilayout_test

import (
	"testing"

	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/transport"
)

// newStore returns a Store over a new temporary directory, closed when the
// test ends.
func newStore(t testing.TB) *ocilayout.Store {
	t.Helper()
	s, err := ocilayout.NewStore(t.TempDir())
	if err != nil {
		t.Fatalf("NewStore = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBehaviour runs regkit's behaviour suite against a Store, a fresh
// directory per test.
func TestBehaviour(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) transport.Transport { return newStore(t) })
}

// TestBehaviourShared runs the suite with one Store shared by every test,
// as a real registry would be.
func TestBehaviourShared(t *testing.T) {
	s := newStore(t)
	registrytest.Run(t, func(t *testing.T) transport.Transport { return s })
}
