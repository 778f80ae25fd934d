package auth_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regkit/regkit/auth"
)

// rtBody is a request body that counts its Close calls.
type rtBody struct {
	io.Reader
	closes atomic.Int32
}

func (r *rtBody) Close() error {
	r.closes.Add(1)
	return nil
}

// rtBodies hands out counted bodies of s and remembers them.
type rtBodies struct {
	s   string
	all []*rtBody
}

func (b *rtBodies) next() *rtBody {
	rc := &rtBody{Reader: strings.NewReader(b.s)}
	b.all = append(b.all, rc)
	return rc
}

func (b *rtBodies) checkClosedOnce(t *testing.T, want int) {
	t.Helper()
	if len(b.all) != want {
		t.Errorf("%d bodies made, want %d", len(b.all), want)
	}
	for i, rc := range b.all {
		if n := rc.closes.Load(); n != 1 {
			t.Errorf("body %d closed %d times, want once", i, n)
		}
	}
}

func TestBodyReplayedThroughGetBody(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	b := &rtBodies{s: "layer bytes"}
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", reg.url("/v2/app/blobs/uploads/1?digest=sha256:x"), nil)
	req.Body = b.next()
	req.GetBody = func() (io.ReadCloser, error) { return b.next(), nil }
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(reg.bodies) != 1 || reg.bodies[0] != "layer bytes" {
		t.Errorf("PUT = %d, handler read %q, want 200 and the whole body", resp.StatusCode, reg.bodies)
	}
	b.checkClosedOnce(t, 2)
}

func TestNonReplayableBodyGets401(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	b := &rtBodies{s: "stream"}
	req, _ := http.NewRequestWithContext(t.Context(), "PATCH", reg.url("/v2/app/blobs/uploads/1"), nil)
	req.Body = b.next() // no GetBody
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(got), "UNAUTHORIZED") {
		t.Errorf("PATCH = %d %q, want the registry's 401 as is", resp.StatusCode, got)
	}
	b.checkClosedOnce(t, 1)
	if reg.fetches.Load() != 0 {
		t.Errorf("token fetched for a request that cannot be replayed")
	}
	// The challenge was learned: the next request carries a token up front.
	req2, _ := http.NewRequestWithContext(t.Context(), "PATCH", reg.url("/v2/app/blobs/uploads/1"), nil)
	req2.Body = b.next()
	resp, err = tr.RoundTrip(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || reg.challenges.Load() != 1 {
		t.Errorf("second PATCH = %d after %d challenges, want 200 after 1", resp.StatusCode, reg.challenges.Load())
	}
	b.checkClosedOnce(t, 2)
}

func TestBodyClosedWhenNotSent(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	store := &rtStore{}
	tr := auth.NewRoundTripper(reg.host, store, nil)
	rtDo(t, tr, "GET", reg.url("/v2/app/manifests/latest"), nil) // learn the realm
	store.mu.Lock()
	store.err = errors.New("store down")
	store.mu.Unlock()
	b := &rtBodies{s: "x"}
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", reg.url("/v2/app/manifests/latest"), nil)
	req.Body = b.next()
	req.GetBody = func() (io.ReadCloser, error) { return b.next(), nil }
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip succeeded, want the store's error (a push token is needed up front)")
	}
	b.checkClosedOnce(t, 1)
	if got := reg.requests.Load(); got != 2 {
		t.Errorf("registry saw %d requests, want 2 (the PUT never went)", got)
	}
}

func TestGetBodyFailure(t *testing.T) {
	t.Parallel()
	reg := newAuthRegistry(t, nil)
	reg.anonymous = true
	tr := auth.NewRoundTripper(reg.host, nil, nil)
	b := &rtBodies{s: "x"}
	boom := errors.New("cannot reopen")
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", reg.url("/v2/app/manifests/latest"), nil)
	req.Body = b.next()
	req.GetBody = func() (io.ReadCloser, error) { return nil, boom }
	if _, err := tr.RoundTrip(req); !errors.Is(err, boom) {
		t.Errorf("RoundTrip error = %v, want GetBody's", err)
	}
	b.checkClosedOnce(t, 1)
}
