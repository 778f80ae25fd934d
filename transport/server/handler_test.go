package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/server"
)

// logBuffer collects what a Handler logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serve serves tr over HTTP with a Handler that logs into the returned
// logBuffer, and checks at cleanup that nothing failed with a 5xx or panic
// unless allow5xx.
func serve(t *testing.T, tr transport.Transport, allow5xx bool, opts ...server.Option) (*httptest.Server, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts = append([]server.Option{server.WithLogger(logger)}, opts...)
	srv := httptest.NewServer(server.NewHandler(tr, opts...))
	t.Cleanup(func() {
		srv.Close()
		if allow5xx {
			return
		}
		if s := log.String(); strings.Contains(s, "level=ERROR") || strings.Contains(s, "panic") {
			t.Errorf("the handler failed with a 5xx or a panic:\n%s", s)
		}
	})
	return srv, log
}

// testResponse is a response with its body read.
type testResponse struct {
	*http.Response
	body []byte
}

// doRequest sends one request to srv and reads the response.
func doRequest(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string, body string) testResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = srv.URL + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, rd)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, path, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return testResponse{resp, b}
}

// errorCode returns the code of the first error of an error body.
func errorCode(t *testing.T, body []byte) transport.Code {
	t.Helper()
	var eb struct {
		Errors []struct {
			Code    transport.Code `json:"code"`
			Message string         `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) == 0 {
		t.Fatalf("error body %q: no errors (%v)", body, err)
	}
	if eb.Errors[0].Message == "" {
		t.Errorf("error body %q: empty message", body)
	}
	return eb.Errors[0].Code
}

// seedStore fills store with a small registry and returns the names the
// tests use for its parts, as "{name}" placeholders:
//
//	demo: blobs {config} ("{}") and {blob} ("hello world"); the manifest
//	      {manifest} ({manifestbody}) under tags v1, v2 and v3; its
//	      referrers {referrer} (an sbom) and {referrer2} (a signature); an
//	      upload session {upload} holding "abcde"
//	src:  the blob {mountblob}; an upload session {srcupload}
func seed(t *testing.T, store *fake.Store) map[string]string {
	t.Helper()
	ctx := t.Context()
	put := func(repo string, data []byte) ocispec.Descriptor {
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(data), Size: int64(len(data))}
		if err := store.PutBlob(ctx, repo, desc, bytes.NewReader(data)); err != nil {
			t.Fatalf("PutBlob: %v", err)
		}
		return desc
	}
	config := put("demo", []byte("{}"))
	config.MediaType = ocispec.MediaTypeImageConfig
	layer := put("demo", []byte("hello world"))
	mbody := testManifest(t, config, layer, "", nil)
	var mdesc ocispec.Descriptor
	for _, tag := range []string{"v1", "v2", "v3"} {
		var err error
		if mdesc, err = store.PutManifest(ctx, "demo", tag, ocispec.MediaTypeImageManifest, mbody, nil); err != nil {
			t.Fatalf("PutManifest: %v", err)
		}
	}
	subject := &ocispec.Descriptor{MediaType: mdesc.MediaType, Digest: mdesc.Digest, Size: mdesc.Size}
	rbody := testManifest(t, ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON, "application/vnd.example.sbom", subject)
	r2body := testManifest(t, ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON, "application/vnd.example.sig", subject)
	for _, b := range [][]byte{rbody, r2body} {
		if _, err := store.PutManifest(ctx, "demo", digest.FromBytes(b).String(), "", b, nil); err != nil {
			t.Fatalf("PutManifest: %v", err)
		}
	}
	missing := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromString("missing"), Size: 7}
	mount := put("src", []byte("mount me"))
	up, err := store.StartUpload(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write([]byte("abcde")); err != nil {
		t.Fatal(err)
	}
	srcUp, err := store.StartUpload(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"{config}":       config.Digest.String(),
		"{blob}":         layer.Digest.String(),
		"{hex}":          layer.Digest.Encoded(),
		"{manifest}":     mdesc.Digest.String(),
		"{manifestbody}": string(mbody),
		"{manifestlen}":  strconv.Itoa(len(mbody)),
		"{badmanifest}":  string(testManifest(t, config, missing, "", nil)),
		"{referrer}":     digest.FromBytes(rbody).String(),
		"{referrerbody}": string(rbody),
		"{referrer2}":    digest.FromBytes(r2body).String(),
		"{missing}":      missing.Digest.String(),
		"{mountblob}":    mount.Digest.String(),
		"{upload}":       up.ID(),
		"{srcupload}":    srcUp.ID(),
		"{new}":          digest.FromString("new blob").String(),
		"{abcde}":        digest.FromString("abcde").String(),
		"{abcdefgh}":     digest.FromString("abcdefgh").String(),
	}
}

// testManifest returns an OCI image manifest with one layer.
func testManifest(t *testing.T, config, layer ocispec.Descriptor, artifactType string, subject *ocispec.Descriptor) []byte {
	t.Helper()
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      subject,
	}
	if subject != nil {
		m.Annotations = map[string]string{"org.example.kind": artifactType}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replacer replaces the placeholders of vars.
func replacer(vars map[string]string) *strings.Replacer {
	var pairs []string
	for k, v := range vars {
		pairs = append(pairs, k, v)
	}
	return strings.NewReplacer(pairs...)
}
