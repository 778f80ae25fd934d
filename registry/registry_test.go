package registry_test

import (
	"bytes"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNew(t *testing.T) {
	t.Parallel()
	srv := fake.Serve(t, fake.WithBasicAuth(map[string]string{"ci": "pw"}))
	if err := srv.Store.PutBlob(t.Context(), "app", ocispec.DescriptorEmptyJSON, bytes.NewReader(ocispec.DescriptorEmptyJSON.Data)); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int32
	counting := rtFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	tests := []struct {
		name    string
		opts    []registry.Option
		wantErr error // of listing the catalog; nil for success
	}{
		{"anonymous", nil, transport.ErrUnauthorized},
		{"WithAuth", []registry.Option{registry.WithAuth(auth.Static(srv.Host, auth.Credential{Username: "ci", Password: "pw"}))}, nil},
		{"WithAuth for another host", []registry.Option{registry.WithAuth(auth.Static("ghcr.io", auth.Credential{Username: "ci", Password: "pw"}))}, transport.ErrUnauthorized},
		{"WithAuth and a round tripper", []registry.Option{
			registry.WithClientOptions(remote.WithRoundTripper(counting)),
			registry.WithAuth(auth.Static(srv.Host, auth.Credential{Username: "ci", Password: "pw"})),
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := registry.New(srv.Host, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for name, e := range reg.Repositories(t.Context(), nil) {
				if e != nil {
					err = e
					break
				}
				names = append(names, name)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("catalog: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (len(names) != 1 || names[0] != "app") {
				t.Errorf("catalog = %q, want [app]", names)
			}
		})
	}
	if sent.Load() == 0 {
		t.Error("WithClientOptions(WithRoundTripper) was not used under WithAuth")
	}
	if _, err := registry.New("https://ghcr.io"); err == nil {
		t.Error(`New("https://ghcr.io") accepted a scheme`)
	}
	if _, err := registry.New("ghcr.io", registry.WithClientOptions(remote.WithTLS(9))); err == nil {
		t.Error("New accepted WithTLS(9)")
	}
}

// idleCounter is a round tripper that counts CloseIdleConnections calls.
type idleCounter struct {
	http.RoundTripper
	closed atomic.Int32
}

func (c *idleCounter) CloseIdleConnections() { c.closed.Add(1) }

// unwrapping is a decorator of a Transport that follows the Unwrap
// convention of the transport package.
type unwrapping struct{ transport.Transport }

func (u unwrapping) Unwrap() transport.Transport { return u.Transport }

// TestCloseIdleConnectionsThroughADecorator reaches the client's round
// tripper under a decorator with Unwrap, and not under one without.
func TestCloseIdleConnectionsThroughADecorator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		wrap func(transport.Transport) transport.Transport
		want int32
	}{
		{"client", func(c transport.Transport) transport.Transport { return c }, 1},
		{"with Unwrap", func(c transport.Transport) transport.Transport { return unwrapping{c} }, 1},
		{"without Unwrap", func(c transport.Transport) transport.Transport { return struct{ transport.Transport }{c} }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &idleCounter{}
			c, err := remote.New("registry.example", remote.WithRoundTripper(rt))
			if err != nil {
				t.Fatal(err)
			}
			registry.FromTransport(tc.wrap(c)).CloseIdleConnections()
			if got := rt.closed.Load(); got != tc.want {
				t.Errorf("round tripper closed %d times, want %d", got, tc.want)
			}
		})
	}
}
