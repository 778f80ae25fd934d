package fake

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/regkit/regkit/internal/regtest"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	srv := Serve(t, WithBasicAuth(map[string]string{"alice": "pw"}), WithGrant("alice", "app", "pull", "push"))
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil)
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil, basicHeader("alice", "pw")...)
	regtest.Send(t, http.MethodDelete, srv.URL+"/v2/app/manifests/"+digest.FromString("x").String(), nil, basicHeader("alice", "pw")...)
	regtest.PushBlob(t, srv.URL, "app", []byte("abc"), basicHeader("alice", "pw")...)
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/app/blobs/"+digest.FromString("abc").String()+"?secret=1", nil, basicHeader("alice", "pw")...)

	got := srv.Requests()
	type line struct {
		method, path string
		status       int
		user         string
	}
	var lines []line
	for _, r := range got {
		lines = append(lines, line{r.Method, r.Path, r.Status, r.User})
		if r.Duration <= 0 {
			t.Errorf("request %s %s took %v, want > 0", r.Method, r.Path, r.Duration)
		}
	}
	want := []line{
		{http.MethodGet, "/v2/", http.StatusUnauthorized, ""},
		{http.MethodGet, "/v2/", http.StatusOK, "alice"},
		{http.MethodDelete, "/v2/app/manifests/" + digest.FromString("x").String(), http.StatusForbidden, "alice"},
		{http.MethodPost, "/v2/app/blobs/uploads/", http.StatusAccepted, "alice"},
		{http.MethodPut, lines[4].path, http.StatusCreated, "alice"},
		{http.MethodGet, "/v2/app/blobs/" + digest.FromString("abc").String(), http.StatusOK, "alice"},
	}
	if !slices.Equal(lines, want) {
		t.Errorf("Requests() = %v\nwant %v", lines, want)
	}
	if !strings.HasPrefix(lines[4].path, "/v2/app/blobs/uploads/") || strings.Contains(lines[4].path, "?") {
		t.Errorf("upload PUT path = %q, want the session path without the query", lines[4].path)
	}
	if got[5].Bytes != 3 {
		t.Errorf("GET blob bytes = %d, want 3", got[5].Bytes)
	}
	if got[0].Bytes == 0 {
		t.Errorf("401 bytes = 0, want the error body's size")
	}

	// Requests returns a copy.
	got[0].User = "mallory"
	if srv.Requests()[0].User != "" {
		t.Errorf("changing Requests()'s result changed the log")
	}
	srv.ResetRequests()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("after ResetRequests, %d requests, want 0", n)
	}
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil)
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("after ResetRequests and one request, %d requests, want 1", n)
	}
}

// TestRequestLogRedaction checks that no credential or token reaches the
// request log or the logger, whatever carries it: Authorization headers,
// token endpoint queries and forms, or the query of an API request.
func TestRequestLogRedaction(t *testing.T) {
	t.Parallel()
	const password = "PASSWORD-9f8e7d"
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := Serve(t, WithTokenAuth(map[string]string{"alice": password}), WithLogger(logger))

	secrets := []string{password}
	tr := getToken(t, srv, "alice", password, scopes("repository:app:pull,push"))
	secrets = append(secrets, tr.Token)
	form := url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {password}, "client_id": {"regkit-test"},
		"scope": {"repository:app:pull"}, "access_type": {"offline"},
	}
	ptr := postToken(t, srv, form)
	secrets = append(secrets, ptr.Token, ptr.RefreshToken)
	rtr := postToken(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ptr.RefreshToken}, "client_id": {"regkit-test"}})
	secrets = append(secrets, rtr.Token)
	// A failed login, a query holding a secret, a forged token.
	regtest.Send(t, http.MethodGet, srv.URL+"/token?service=regkit-fake&account=alice&password="+password, nil, basicHeader("alice", password+"x")...)
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/app/tags/list?token="+tr.Token, nil, bearer(tr.Token)...)
	regtest.Send(t, http.MethodGet, srv.URL+"/v2/", nil, bearer(tr.Token+"x")...)
	regtest.PushBlob(t, srv.URL, "app", []byte("abc"), bearer(tr.Token)...)

	reqs := srv.Requests()
	if len(reqs) != 8 {
		t.Errorf("%d requests logged, want 8", len(reqs))
	}
	dump := fmt.Sprintf("%+v %#v", reqs, reqs)
	logged := buf.String()
	for _, s := range secrets {
		if s == "" {
			t.Fatalf("a secret of the test is empty")
		}
		// Any sizeable piece of a secret counts: a token's signature alone
		// is a leak.
		for _, piece := range []string{s, s[len(s)-min(len(s), 16):]} {
			if strings.Contains(dump, piece) {
				t.Errorf("Requests() holds a secret: %s", dump)
			}
			if strings.Contains(logged, piece) {
				t.Errorf("the log holds a secret:\n%s", logged)
			}
		}
	}
	for _, want := range []string{"path=/token", "user=alice", "status=401", "path=/v2/app/tags/list"} {
		if !strings.Contains(logged, want) {
			t.Errorf("the log has no %q:\n%s", want, logged)
		}
	}
}

func TestLogWriter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	w := &logWriter{ResponseWriter: rec}
	if w.status() != http.StatusOK {
		t.Errorf("status() before writing = %d, want 200", w.status())
	}
	n, err := w.ReadFrom(strings.NewReader("hello"))
	if err != nil || n != 5 || w.written != 5 || w.status() != http.StatusOK || rec.Body.String() != "hello" {
		t.Errorf("ReadFrom = %d, %v; written %d, status %d, body %q", n, err, w.written, w.status(), rec.Body.String())
	}
	w.WriteHeader(http.StatusTeapot) // too late: the first status stays
	if _, err := w.Write([]byte("!")); err != nil || w.written != 6 || w.status() != http.StatusOK {
		t.Errorf("Write: %v; written %d, status %d", err, w.written, w.status())
	}
	if w.Unwrap() != rec {
		t.Errorf("Unwrap() is not the underlying writer")
	}
}
