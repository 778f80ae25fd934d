package auth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/regkit/regkit/auth"
)

func TestBasicFlow(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.basicOnly, reg.user, reg.pass = true, "alice", "s3cret"
	store := &rtStore{cred: auth.Credential{Username: "alice", Password: "s3cret"}}
	tr := auth.NewRoundTripper(reg.host, store, nil)

	if code, body := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 || body != "ok" {
		t.Fatalf("first GET = %d %q, want 200 ok", code, body)
	}
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/other/tags/list"), nil); code != 200 {
		t.Fatalf("second GET = %d, want 200", code)
	}
	if got := reg.requests.Load(); got != 3 {
		t.Errorf("registry saw %d requests, want 3 (401, replay, then Basic up front)", got)
	}
	if got := reg.challenges.Load(); got != 1 {
		t.Errorf("challenges = %d, want 1", got)
	}
	if got := store.count(); got != 1 {
		t.Errorf("store asked %d times, want 1", got)
	}
	if want := []string{reg.host}; !reflect.DeepEqual(store.hosts, want) {
		t.Errorf("store asked for %q, want %q", store.hosts, want)
	}
}

func TestBasicWrongCredentialReturns401Once(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.basicOnly, reg.user, reg.pass = true, "alice", "s3cret"
	tr := auth.NewRoundTripper(reg.host, &rtStore{cred: auth.Credential{Username: "alice", Password: "wrong"}}, nil)
	for i := range 2 {
		if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 401 {
			t.Fatalf("GET %d = %d, want 401", i, code)
		}
	}
	if got := reg.requests.Load(); got != 4 {
		t.Errorf("registry saw %d requests, want 4 (each GET tried, then replayed once)", got)
	}
}

func TestBasicAnonymousGets401AsIs(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.basicOnly, reg.user, reg.pass = true, "alice", "s3cret"
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	code, body := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil)
	if code != 401 || !strings.Contains(body, "UNAUTHORIZED") {
		t.Errorf("GET = %d %q, want the registry's 401 with its body", code, body)
	}
	if got := reg.requests.Load(); got != 1 {
		t.Errorf("registry saw %d requests, want 1", got)
	}
}

func TestBasicRotatedCredential(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.basicOnly, reg.user, reg.pass = true, "alice", "old"
	store := &rtStore{cred: auth.Credential{Username: "alice", Password: "old"}}
	tr := auth.NewRoundTripper(reg.host, store, nil)
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 {
		t.Fatalf("GET = %d, want 200", code)
	}
	reg.mu.Lock()
	reg.pass = "new"
	reg.mu.Unlock()
	store.set(auth.Credential{Username: "alice", Password: "new"})
	if code, _ := rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil); code != 200 {
		t.Fatalf("GET after rotation = %d, want 200 (the store is asked again)", code)
	}
	if got := store.count(); got != 2 {
		t.Errorf("store asked %d times, want 2", got)
	}
}
