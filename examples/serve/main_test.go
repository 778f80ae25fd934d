package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, l, slog.New(slog.NewTextHandler(&logs, nil)), config{}) }()

	resp, err := http.Get("http://" + l.Addr().String() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("GET /v2/ = %d %q, want 200 with the API version header", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v after its context ended, want nil", err)
	}
	if !strings.Contains(logs.String(), "/v2/") {
		t.Errorf("the request was not logged:\n%s", logs.String())
	}
}

// TestServeMaxUploads checks that -max-uploads bounds the open upload
// sessions: the session beyond it gets 429 with the OCI error code.
func TestServeMaxUploads(t *testing.T) {
	srv := httptestServer(t, config{maxUploads: 2})
	for i, want := range []int{http.StatusAccepted, http.StatusAccepted, http.StatusTooManyRequests} {
		resp, err := http.Post(srv+"/v2/app/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %d = %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
		if want == http.StatusTooManyRequests && !strings.Contains(string(body), "TOOMANYREQUESTS") {
			t.Errorf("POST %d body = %s, want the TOOMANYREQUESTS code", i+1, body)
		}
	}
}

// httptestServer serves newServer's handler for cfg on a free port until
// the test ends, and returns its URL.
func httptestServer(t *testing.T, cfg config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, l, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + l.Addr().String()
}

// TestServeMaxUploadBytes checks that -max-upload-bytes bounds what open
// sessions hold: a chunk past it gets 429 and the session keeps nothing.
func TestServeMaxUploadBytes(t *testing.T) {
	srv := httptestServer(t, config{maxUploadBytes: 4})
	resp, err := http.Post(srv+"/v2/app/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("POST = %d with no Location: %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodPatch, loc.String(), strings.NewReader("8 bytes!"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("PATCH of 8 bytes with a 4-byte bound = %d, want 429", resp.StatusCode)
	}
}
