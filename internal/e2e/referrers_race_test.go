package e2e

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/regkit/regkit/internal/contention"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// TestReferrersConcurrentPushers has 4 and 16 concurrent clients push 25
// referrers each (8 each for 16) to one subject, on docker-registry (no referrers API, and
// If-Match ignored: the fallback index under the subject's tag, edited by
// read-modify-write) and on the fake's profiles: no push may report
// success for a referrer the subject does not list at the end.
func TestReferrersConcurrentPushers(t *testing.T) {
	if os.Getenv(regtest.E2EVar) != "1" {
		t.Skipf("a load test of a few seconds: run with %s=1 (bash .ci/test)", regtest.E2EVar)
	}
	targets := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"docker-registry", func(t *testing.T) string { return regtest.Distribution(t, "") }},
		{"fake", func(t *testing.T) string { return fake.Serve(t).Host }},
		{"fake GHCR", func(t *testing.T) string { return fake.Serve(t, fake.WithProfile(fake.ProfileGHCR)).Host }},
		{"fake GHCR NoIfMatch", func(t *testing.T) string {
			return fake.Serve(t, fake.WithProfile(fake.ProfileGHCR, fake.ProfileNoIfMatch)).Host
		}},
	}
	for _, tg := range targets {
		for _, pushers := range []int{4, 16} {
			// 16 pushers of 25 referrers each take over a minute on
			// docker-registry, and half a minute on a fake profile under
			// -race (each verifies after a settle time): 8 each keep the
			// contention and the CI run short.
			each := 25
			if pushers == 16 {
				each = 8
			}
			t.Run(tg.name+"/"+strconv.Itoa(pushers), func(t *testing.T) {
				host := tg.start(t)
				res, err := contention.PushReferrers(context.Background(), func() transport.Transport { return newClient(t, host) }, "x", pushers, each)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s, %d pushers: %v; first error: %v", tg.name, pushers, res, res.FirstErr)
				if res.Lost != 0 {
					t.Errorf("%d referrers whose push succeeded are not listed (%v); first error: %v", res.Lost, res, res.FirstErr)
				}
			})
		}
	}
}
