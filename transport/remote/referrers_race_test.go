package remote_test

import (
	"context"
	"testing"

	"github.com/regkit/regkit/internal/contention"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// TestReferrersConcurrentPushers has concurrent clients push referrers of
// one subject, each its own client as separate processes would, to fake
// registries with and without the referrers API and If-Match: no push may
// report success for a referrer the subject does not list at the end.
func TestReferrersConcurrentPushers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		profiles []fake.Profile
	}{
		{name: "referrers API"},
		{name: "fallback, If-Match", profiles: []fake.Profile{fake.ProfileGHCR}},
		{name: "fallback, no If-Match", profiles: []fake.Profile{fake.ProfileGHCR, fake.ProfileNoIfMatch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, fake.WithProfile(tc.profiles...))
			newClient := func() transport.Transport {
				c, err := remote.New(srv.Host)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			res, err := contention.PushReferrers(context.Background(), newClient, "x", 4, 25)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %v", tc.name, res)
			if res.Lost != 0 {
				t.Errorf("%d referrers whose push succeeded are not listed (%v)", res.Lost, res)
			}
		})
	}
}
