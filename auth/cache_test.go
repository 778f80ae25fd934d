package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var c tokenCache
	pull := &token{value: "pull", scopes: scopeSetOf("repository:a:pull"), refreshAt: now.Add(time.Minute)}
	c.put(pull, now)
	if got := c.get(scopeSetOf("repository:a:pull"), now); got != pull {
		t.Fatalf("get = %v, want the pull token", got)
	}
	if got := c.get(scopeSetOf("repository:a:pull,push"), now); got != nil {
		t.Fatalf("get(push) = %v, want none", got)
	}
	if got := c.get(scopeSetOf("repository:a:pull"), now.Add(time.Minute)); got != nil {
		t.Fatalf("get at refresh time = %v, want none", got)
	}
	// A wider token that lives longer replaces the narrower one.
	both := &token{value: "both", scopes: scopeSetOf("repository:a:pull,push"), refreshAt: now.Add(2 * time.Minute)}
	c.put(both, now)
	if len(c.tokens) != 1 || c.get(scopeSetOf("repository:a:pull"), now) != both {
		t.Fatalf("cache = %v, want the wider token alone", c.tokens)
	}
	// A narrower one that lives longer does not replace it.
	b := &token{value: "b", scopes: scopeSetOf("repository:b:pull"), refreshAt: now.Add(time.Hour)}
	c.put(b, now)
	short := &token{value: "short", scopes: scopeSetOf("repository:a:pull,push repository:b:pull"), refreshAt: now.Add(time.Minute)}
	c.put(short, now)
	if len(c.tokens) != 3 {
		t.Fatalf("cache holds %d tokens, want 3", len(c.tokens))
	}
	// Stale ones go on the next put.
	c.put(&token{value: "c", scopes: scopeSetOf("repository:c:pull"), refreshAt: now.Add(3 * time.Hour)}, now.Add(90*time.Minute))
	if len(c.tokens) != 1 {
		t.Fatalf("cache holds %d tokens after expiry, want 1", len(c.tokens))
	}
	c.drop(c.tokens[0])
	c.drop(b) // not there
	if len(c.tokens) != 0 {
		t.Fatalf("cache holds %d tokens after drop, want 0", len(c.tokens))
	}
}

func TestTokenCacheBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var c tokenCache
	static := &token{value: "static", scopes: scopeSetOf(""), any: true}
	c.put(static, now)
	for i := range maxCachedTokens + 10 {
		// The second one expires first; it goes first.
		exp := now.Add(time.Hour + time.Duration(i)*time.Minute)
		if i == 1 {
			exp = now.Add(time.Minute)
		}
		c.put(&token{value: fmt.Sprint(i), scopes: scopeSetOf(fmt.Sprintf("repository:r%d:pull", i)), refreshAt: exp}, now)
	}
	if len(c.tokens) != maxCachedTokens {
		t.Fatalf("cache holds %d tokens, want %d", len(c.tokens), maxCachedTokens)
	}
	for _, tok := range c.tokens {
		if tok.value == "1" {
			t.Errorf("the token that expires first was kept")
		}
	}
	kept := false
	for _, tok := range c.tokens {
		kept = kept || tok == static
	}
	if !kept {
		t.Errorf("the registry token, which never expires, was dropped")
	}
}

// gatedBase answers token requests once gate closes, counting them.
func gatedBase(gate chan struct{}, n *atomic.Int32) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		n.Add(1)
		select {
		case <-gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"token":"t"}`)), Header: http.Header{}, Request: r}, nil
	})
}

func TestWaiterStopsWithItsContext(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	defer close(gate)
	var n atomic.Int32
	tr := NewRoundTripper("reg.example", nil, gatedBase(gate, &n))
	ch := &bearerChallenge{realm: rtURL(t, "https://auth.example/token")}
	go tr.bearerToken(t.Context(), scopeSetOf("repository:a:pull,push"), ch, nil) // the leader
	for n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := tr.bearerToken(ctx, scopeSetOf("repository:a:pull"), ch, nil) // covered by the flight: waits
		done <- err
	}()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("waiter error = %v, want context.Canceled", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d token requests, want 1", n.Load())
	}
}

func TestWaiterRetriesWhenTheLeaderGivesUp(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var n atomic.Int32
	tr := NewRoundTripper("reg.example", nil, gatedBase(gate, &n))
	ch := &bearerChallenge{realm: rtURL(t, "https://auth.example/token")}
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leaderErr := make(chan error)
	go func() {
		_, err := tr.bearerToken(leaderCtx, scopeSetOf("repository:a:pull"), ch, nil)
		leaderErr <- err
	}()
	for n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiter := make(chan *token)
	go func() {
		tok, err := tr.bearerToken(t.Context(), scopeSetOf("repository:a:pull"), ch, nil)
		if err != nil {
			t.Errorf("waiter: %v", err)
		}
		waiter <- tok
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter join the flight
	cancelLeader()
	if err := <-leaderErr; !isContextError(err) {
		t.Errorf("leader error = %v, want its context's", err)
	}
	close(gate)
	if tok := <-waiter; tok == nil || tok.value != "t" {
		t.Errorf("waiter got %v, want a token of its own fetch", tok)
	}
}

func TestHostMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, url string
		want      bool
	}{
		{"ghcr.io", "https://ghcr.io/v2/", true},
		{"ghcr.io", "https://GHCR.io:443/v2/", true},
		{"ghcr.io", "http://ghcr.io:80/v2/", true},
		{"ghcr.io", "https://ghcr.io:8443/v2/", false},
		{"ghcr.io", "https://pkg-containers.githubusercontent.com/blob", false},
		{"localhost:5000", "http://localhost:5000/v2/", true},
		{"localhost:5000", "http://localhost:5001/v2/", false},
		{"[::1]:5000", "http://[::1]:5000/v2/", true},
		{"[::1]", "https://[::1]/v2/", true},
		{"docker.io", "https://registry-1.docker.io/v2/", true},
		{"index.docker.io", "https://registry-1.docker.io/v2/", true},
		{"registry-1.docker.io", "https://docker.io/v2/", true},
		{"docker.io", "https://production.cloudflare.docker.com/blob", false},
	}
	for _, tc := range tests {
		tr := NewRoundTripper(tc.host, nil, nil)
		if got := tr.ours(rtURL(t, tc.url)); got != tc.want {
			t.Errorf("NewRoundTripper(%q).ours(%q) = %v, want %v", tc.host, tc.url, got, tc.want)
		}
	}
}

func TestNewRoundTripperDefaults(t *testing.T) {
	t.Parallel()
	tr := NewRoundTripper("reg.example", nil, nil)
	ht, ok := tr.base.(*http.Transport)
	if !ok || ht == http.DefaultTransport {
		t.Errorf("base = %T, want a fresh *http.Transport", tr.base)
	}
	if c, err := tr.credential(t.Context()); err != nil || !c.IsZero() {
		t.Errorf("nil store gives %v, %v; want anonymous", c, err)
	}
}
