package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// sendStreamed sends body, in chunked encoding (no Content-Length) when
// streamed, with the header hdr, and returns the status and Range header.
func sendStreamed(t *testing.T, method, url, body string, streamed bool, hdr ...string) (int, string) {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if streamed {
		rd = struct{ io.Reader }{rd} // hides the length
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Range")
}

// TestServerRefusedChunkLeavesSession checks that a chunk refused once its
// bytes began to arrive (longer or shorter than its Content-Range) leaves
// the session as it was, on every backend that can truncate: the right
// chunk is then accepted and the blob has the right digest.
func TestServerRefusedChunkLeavesSession(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name string
		new  func(t *testing.T) transport.Transport
	}{
		{"fake", func(*testing.T) transport.Transport { return fake.NewStore() }},
		{"ocilayout", func(t *testing.T) transport.Transport {
			s, err := ocilayout.NewStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
	tests := []struct {
		name, method, body, rng string
	}{
		{name: "PATCH too long", method: http.MethodPatch, body: "fghij", rng: "5-7"},
		{name: "PATCH one byte too long", method: http.MethodPatch, body: "fghi", rng: "5-7"},
		{name: "PATCH too short", method: http.MethodPatch, body: "fg", rng: "5-7"},
		{name: "PATCH empty", method: http.MethodPatch, body: "", rng: "5-7"},
		{name: "PATCH too short across the whole blob", method: http.MethodPatch, body: strings.Repeat("z", 100<<10), rng: "5-" + "1000000"},
		{name: "PUT too long", method: http.MethodPut, body: "fghij", rng: "5-7"},
		{name: "PUT too short", method: http.MethodPut, body: "f", rng: "5-7"},
	}
	want := digest.FromString("abcdefgh")
	for _, b := range backends {
		for _, tc := range tests {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				srv, _ := serve(t, b.new(t), false)
				resp := doRequest(t, srv, http.MethodPost, "/v2/demo/blobs/uploads/", nil, "")
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("POST = %d", resp.StatusCode)
				}
				session := srv.URL + resp.Header.Get("Location")
				if st, rng := sendStreamed(t, http.MethodPatch, session, "abcde", false, "Content-Range", "0-4"); st != http.StatusAccepted || rng != "0-4" {
					t.Fatalf("first PATCH = %d Range %q, want 202 0-4", st, rng)
				}
				if st, _ := sendStreamed(t, tc.method, session+"?digest="+want.String(), tc.body, true, "Content-Range", tc.rng); st != http.StatusBadRequest {
					t.Fatalf("refused chunk = %d, want 400", st)
				}
				if st, rng := sendStreamed(t, http.MethodGet, session, "", false); st != http.StatusNoContent || rng != "0-4" {
					t.Fatalf("status after the refused chunk = %d Range %q, want 204 0-4", st, rng)
				}
				if st, rng := sendStreamed(t, http.MethodPatch, session, "fgh", true, "Content-Range", "5-7"); st != http.StatusAccepted || rng != "0-7" {
					t.Fatalf("right chunk = %d Range %q, want 202 0-7", st, rng)
				}
				if st, _ := sendStreamed(t, http.MethodPut, session+"?digest="+want.String(), "", false); st != http.StatusCreated {
					t.Fatalf("PUT = %d, want 201", st)
				}
				got := doRequest(t, srv, http.MethodGet, "/v2/demo/blobs/"+want.String(), nil, "")
				if got.StatusCode != http.StatusOK || string(got.body) != "abcdefgh" {
					t.Fatalf("GET blob = %d %q, want 200 abcdefgh", got.StatusCode, got.body)
				}
			})
		}
	}
}
