package auth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/transport/remote"
)

// echoSecret is the token the echoing registry's realm hands out.
const echoSecret = "tok-3c1f9a7e5b"

// newEchoRegistry returns a registry that refuses every request it is
// sent, quoting its Authorization header (raw, and the credential it
// carries in base64) in its OCI error body. With bearer, it challenges
// for a token from its realm, which hands out echoSecret.
func newEchoRegistry(t *testing.T, bearer bool) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			fmt.Fprintf(w, `{"token":%q}`, echoSecret)
			return
		}
		if bearer {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="s"`, srv.URL+"/token"))
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		h := r.Header.Get("Authorization")
		_, v, _ := strings.Cut(h, " ")
		raw, _ := base64.StdEncoding.DecodeString(v)
		fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"refused %s (%s) %s"}]}`,
			h, base64.StdEncoding.EncodeToString([]byte(v)), raw)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A registry quoting the credential or the token a request carried in its
// refusal must not get it into the error the caller gets, whether through
// Login or through a RoundTripper under a Client: the fetched token and the
// Basic credential are redacted like the password.
func TestNoEchoedSecretInErrors(t *testing.T) {
	cred := auth.Credential{Username: "alice", Password: "pw-8d2e6b40"}
	for _, bearer := range []bool{false, true} {
		srv := newEchoRegistry(t, bearer)
		host := strings.TrimPrefix(srv.URL, "http://")
		loginErr := auth.Login(context.Background(), host, cred, nil)
		rt := auth.NewRoundTripper(host, echoStore{cred}, nil)
		c, err := remote.New(host, remote.WithRoundTripper(rt))
		if err != nil {
			t.Fatal(err)
		}
		_, _, getErr := c.GetManifest(context.Background(), "x", "latest")
		for what, err := range map[string]error{"Login": loginErr, "GetManifest": getErr} {
			if err == nil {
				t.Fatalf("bearer %v: %s: no error", bearer, what)
			}
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				s := fmt.Sprintf(verb, err)
				for _, secret := range []string{cred.Password, echoSecret, base64.StdEncoding.EncodeToString([]byte(echoSecret)),
					base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Password))} {
					if strings.Contains(s, secret) {
						t.Errorf("bearer %v: %s error %s holds %q: %s", bearer, what, verb, secret, s)
					}
				}
			}
		}
	}
}

// echoStore hands out one credential for every host.
type echoStore struct{ c auth.Credential }

func (s echoStore) Credential(context.Context, string) (auth.Credential, error) { return s.c, nil }

// The redaction of an error body happens as the caller reads it, not in
// RoundTrip: a registry that sends an error's headers and then stalls must
// not hold RoundTrip, where no bound the caller puts on reading a body
// (remote.Client's progress check) applies. The wait is a guard.
func TestRedactionReadsLazily(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	host := strings.TrimPrefix(srv.URL, "http://")
	client := &http.Client{Transport: auth.NewRoundTripper(host, echoStore{auth.Credential{Username: "alice", Password: "pw-1"}}, nil)}
	got := make(chan error, 1)
	go func() {
		resp, err := client.Get(srv.URL + "/v2/app/manifests/latest")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				err = fmt.Errorf("status %d, want 404", resp.StatusCode)
			}
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RoundTrip of an error whose body stalls did not return: it reads the body itself")
	}
}
