package regtest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Reply is an HTTP response, read in full.
type Reply struct {
	Status int
	Header http.Header
	Body   string
}

// sendClient sends the requests of [Send], each on a connection of its own.
// It is not http.DefaultClient: every httptest.Server's Close closes the
// idle connections of http.DefaultTransport, which breaks a POST of a test
// running in parallel that was about to reuse one ("connection broken:
// CloseIdleConnections called"); POSTs are not retried.
var sendClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Send sends a request with the given headers ("Name", "value", …) and
// returns the response, failing the test when it cannot be sent or read.
func Send(t testing.TB, method, url string, body []byte, headers ...string) Reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := sendClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// PushBlob uploads data to repository name of the registry at base
// ("http://127.0.0.1:5000") in two requests, POST then PUT with the
// digest, and returns the first response that is not a success, or the
// PUT's. headers go with both requests.
func PushBlob(t testing.TB, base, name string, data []byte, headers ...string) Reply {
	t.Helper()
	r := Send(t, http.MethodPost, base+"/v2/"+name+"/blobs/uploads/", nil, headers...)
	if r.Status != http.StatusAccepted {
		return r
	}
	b, err := url.Parse(base)
	if err != nil {
		t.Fatalf("base %q: %v", base, err)
	}
	loc, err := b.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location %q: %v", r.Header.Get("Location"), err)
	}
	q := loc.Query()
	q.Set("digest", digest.FromBytes(data).String())
	loc.RawQuery = q.Encode()
	return Send(t, http.MethodPut, loc.String(), data, append([]string{"Content-Type", "application/octet-stream"}, headers...)...)
}
