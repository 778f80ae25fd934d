package origin

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/regkit/regkit/transport"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		owner, to string
		reason    string // "" when allowed
	}{
		{"https://ghcr.io/v2/", "https://ghcr.io/v2/app/manifests/x", ""},
		{"https://ghcr.io/v2/", "https://GHCR.io:443/token", ""},
		{"http://localhost:5000/v2/", "http://localhost:5000/v2/x", ""},
		{"http://localhost:5000/v2/", "http://localhost:5001/v2/", "another port"},
		{"https://reg.example/v2/", "http://reg.example/v2/", "plain HTTP"},
		{"http://reg.example/v2/", "https://reg.example/v2/", "another scheme"},
		{"https://auth.example/token", "https://evil.auth.example/token", "another host"},
		{"https://auth.example/token", "https://u:p@auth.example/token", "user information"},
	}
	for _, tc := range tests {
		err := Send(mustURL(t, tc.owner), mustURL(t, tc.to))
		if tc.reason == "" {
			if err != nil {
				t.Errorf("Send(%s, %s) = %v, want nil", tc.owner, tc.to, err)
			}
			continue
		}
		var e *transport.OriginError
		if !errors.As(err, &e) || !strings.Contains(e.Reason, tc.reason) || strings.Contains(err.Error(), "u:p") {
			t.Errorf("Send(%s, %s) = %v, want an *transport.OriginError saying %q without user information", tc.owner, tc.to, err, tc.reason)
		}
	}
}

func TestRealm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reg, realm string
		ok         bool
	}{
		{"https://reg.example/v2/", "https://auth.example/token", true},
		{"http://localhost:5000/v2/", "https://auth.example/token", true},
		{"http://localhost:5000/v2/", "http://127.0.0.1:5001/token", true},
		{"http://[::1]:5000/v2/", "http://localhost/token", true},
		{"http://reg.lan:5000/v2/", "http://reg.lan:8080/token", true},
		{"https://reg.example/v2/", "http://127.0.0.1:5001/token", false}, // finding 3
		{"https://reg.example/v2/", "http://reg.example/token", false},
		{"http://localhost:5000/v2/", "http://auth.example/token", false},
		{"http://127.0.0.1:5000/v2/", "http://10.0.0.5/token", false},
		{"http://reg.lan/v2/", "http://127.0.0.1/token", false},
		{"http://reg.lan/v2/", "http://auth.lan/token", false},
		{"https://reg.example/v2/", "ftp://auth.example/token", false},
		{"https://reg.example/v2/", "/token", false},
		{"https://reg.example/v2/", "https://u:p@auth.example/token", false},
	}
	for _, tc := range tests {
		u, err := Realm(mustURL(t, tc.reg), tc.realm)
		if (err == nil) != tc.ok || (err == nil && u == nil) {
			t.Errorf("Realm(%s, %s) = %v, %v; want ok %v", tc.reg, tc.realm, u, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "u:p") {
			t.Errorf("Realm error %q shows user information", err)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:5000": true, "127.0.0.1": true, "127.1.2.3:80": true,
		"[::1]:5000": true, "::1": true, "10.0.0.1": false, "ghcr.io": false, "localhost.evil.com": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
