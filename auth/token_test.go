package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answerWith returns a base that answers every request with status and
// body, recording the requests.
func answerWith(status int, body string, seen *[]*http.Request) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		if seen != nil {
			*seen = append(*seen, r)
		}
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: r}, nil
	})
}

func rtURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCheckRealm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, realm, registry string
		ok                    bool
	}{
		{"https", "https://auth.docker.io/token", "https://registry-1.docker.io/v2/", true},
		{"https from a plain-http registry", "https://auth.example/token", "http://reg.lan/v2/", true},
		{"http on 127.0.0.1 from an https registry", "http://127.0.0.1:5001/token", "https://reg.example/v2/", false},
		{"http on 127.0.0.1 from a plain-http registry elsewhere", "http://127.0.0.1:5001/token", "http://reg.lan/v2/", false},
		{"http on a LAN host from a loopback registry", "http://10.0.0.5/token", "http://127.0.0.1:5000/v2/", false},
		{"http on 127.0.0.1 from a loopback registry", "http://127.0.0.1:5001/token", "http://localhost:5000/v2/", true},
		{"http on 127.0.0.2", "http://127.0.0.2/token", "http://127.0.0.2:5000/v2/", true},
		{"http on ::1", "http://[::1]:5001/token", "http://[::1]:5000/v2/", true},
		{"http on localhost", "http://LOCALHOST:5001/token", "http://localhost:5000/v2/", true},
		{"http on the host of a plain-http registry", "http://reg.lan:8080/token", "http://reg.lan:5000/v2/", true},
		{"http on another host of a plain-http registry", "http://auth.lan/token", "http://reg.lan/v2/", false},
		{"http on the host of an https registry", "http://reg.example/token", "https://reg.example/v2/", false},
		{"http elsewhere", "http://auth.example.com/token", "https://reg.example/v2/", false},
		{"http on a private address", "http://10.0.0.1/token", "http://10.0.0.2/v2/", false},
		{"no scheme", "auth.example.com/token", "https://reg.example/v2/", false},
		{"file", "file:///etc/passwd", "https://reg.example/v2/", false},
		{"user info", "https://u:p@auth.example/token", "https://reg.example/v2/", false},
		{"unparsable", "https://a b\x7f/", "https://reg.example/v2/", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := checkRealm(tc.realm, rtURL(t, tc.registry))
			if (err == nil) != tc.ok {
				t.Fatalf("checkRealm(%q, %q) = %v, %v; want ok %v", tc.realm, tc.registry, u, err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), "u:p") {
				t.Errorf("checkRealm error %q holds user information", err)
			}
		})
	}
}

func TestRefreshTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	now := start.Add(time.Second)
	tests := []struct {
		name      string
		expiresIn string
		issuedAt  string
		want      time.Duration // after start
	}{
		{"absent", ``, "", 48 * time.Second},
		{"zero", `0`, "", 48 * time.Second},
		{"negative", `-5`, "", 48 * time.Second},
		{"garbage", `"soon"`, "", 48 * time.Second},
		{"string number", `"300"`, "", 270 * time.Second},
		{"fractional", `90.5`, "", 90500*time.Millisecond - 18100*time.Millisecond},
		{"an hour", `3600`, "", 3570 * time.Second},
		{"capped at a day", `1e300`, "", 24*time.Hour - 30*time.Second},
		{"issued at start", `300`, "2025-06-01T12:00:00Z", 270 * time.Second},
		{"issued earlier: shorter", `300`, "2025-06-01T11:58:00Z", 150 * time.Second},
		{"server clock behind: ignored", `300`, "2025-06-01T11:00:00Z", 270 * time.Second},
		{"server clock ahead: ignored", `300`, "2025-06-01T13:00:00Z", 270 * time.Second},
		{"bad issued_at", `300`, "yesterday", 270 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := refreshTime(start, now, tokenResponse{ExpiresIn: []byte(tc.expiresIn), IssuedAt: tc.issuedAt})
			if want := start.Add(tc.want); !got.Equal(want) {
				t.Errorf("refreshTime(expires_in %s, issued_at %q) = +%v, want +%v", tc.expiresIn, tc.issuedAt, got.Sub(start), tc.want)
			}
		})
	}
}

func TestExchangeAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		wantTok    string
		wantErr    string
	}{
		{"token", `{"token":"abc","expires_in":300}`, 200, "abc", ""},
		{"access_token", `{"access_token":"def"}`, 200, "def", ""},
		{"both: token wins", `{"token":"abc","access_token":"def"}`, 200, "abc", ""},
		{"no token", `{"expires_in":300}`, 200, "", "no token"},
		{"not json", `<html>`, 200, "", "not a token response"},
		{"header injection", `{"token":"abc\r\nX-Evil: 1"}`, 200, "", "characters"},
		{"space in token", `{"token":"a b"}`, 200, "", "characters"},
		{"too large", `{"token":"` + strings.Repeat("a", maxTokenResponse) + `"}`, 200, "", "larger than 64 KiB"},
		{"server error", `oops`, 502, "", "502 bad gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewRoundTripper("reg.example", nil, answerWith(tc.status, tc.body, nil))
			ch := &bearerChallenge{realm: rtURL(t, "https://auth.example/token?x=secret"), service: "svc"}
			tok, err := tr.fetchToken(t.Context(), scopeSetOf("repository:a:pull"), ch)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("fetchToken = %v, %v; want an error saying %q", tok, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q holds the realm's query", err)
				}
				return
			}
			if err != nil || tok.value != tc.wantTok {
				t.Fatalf("fetchToken = %v, %v; want token %q", tok, err, tc.wantTok)
			}
		})
	}
}

func TestGetTokenKeepsRealmQuery(t *testing.T) {
	t.Parallel()
	var seen []*http.Request
	tr := NewRoundTripper("reg.example", nil, answerWith(200, `{"token":"t"}`, &seen))
	ch := &bearerChallenge{realm: rtURL(t, "https://auth.example/token?account=x")}
	if _, err := tr.fetchToken(t.Context(), scopeSetOf("repository:a:pull repository:b:pull,push"), ch); err != nil {
		t.Fatal(err)
	}
	q := seen[0].URL.Query()
	if q.Get("account") != "x" || q.Has("service") || strings.Join(q["scope"], " ") != "repository:a:pull repository:b:pull,push" {
		t.Errorf("token request query = %v, want the realm's own, no service, one scope each", q)
	}
}

func TestTokenRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, location string
		ok             bool
	}{
		{"same host", "https://auth.example/v2/token", true},
		{"another host", "https://evil.example/token", false},
		{"down to http", "http://auth.example/token", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hosts []string
			base := rtFunc(func(r *http.Request) (*http.Response, error) {
				hosts = append(hosts, r.URL.Host)
				if r.URL.Path == "/token" && r.URL.Host == "auth.example" && r.URL.Scheme == "https" {
					return &http.Response{StatusCode: 307, Header: http.Header{"Location": {tc.location}}, Body: http.NoBody, Request: r}, nil
				}
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"token":"t"}`)), Header: http.Header{}, Request: r}, nil
			})
			tr := NewRoundTripper("reg.example", CredentialFunc(func(context.Context, string) (Credential, error) {
				return Credential{IdentityToken: "refresh"}, nil
			}), base)
			ch := &bearerChallenge{realm: rtURL(t, "https://auth.example/token")}
			_, err := tr.fetchToken(t.Context(), scopeSetOf("repository:a:pull"), ch)
			if (err == nil) != tc.ok {
				t.Fatalf("fetchToken error = %v, want ok %v", err, tc.ok)
			}
			for _, h := range hosts {
				if h != "auth.example" {
					t.Errorf("a token request went to %s", h)
				}
			}
		})
	}
}

func TestTokenRequestNetworkError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection refused")
	tr := NewRoundTripper("reg.example", nil, rtFunc(func(*http.Request) (*http.Response, error) { return nil, boom }))
	ch := &bearerChallenge{realm: rtURL(t, "https://auth.example/token?sig=secret")}
	_, err := tr.fetchToken(t.Context(), scopeSetOf("repository:a:pull"), ch)
	if !errors.Is(err, boom) || strings.Contains(err.Error(), "secret") {
		t.Errorf("fetchToken error = %v, want the network error without the realm's query", err)
	}
}

func TestRegistryTokenServesAnyScope(t *testing.T) {
	t.Parallel()
	tr := NewRoundTripper("reg.example", CredentialFunc(func(context.Context, string) (Credential, error) {
		return Credential{RegistryToken: "static"}, nil
	}), answerWith(500, "", nil))
	tok, err := tr.bearerToken(t.Context(), scopeSetOf("repository:a:pull"), &bearerChallenge{realm: rtURL(t, "https://auth.example/token")}, nil)
	if err != nil || tok.value != "static" {
		t.Fatalf("bearerToken = %v, %v", tok, err)
	}
	if got := tr.tokens.get(scopeSetOf("repository:other:push registry:catalog:*"), time.Now()); got != tok {
		t.Errorf("the registry token does not serve other scopes")
	}
}
