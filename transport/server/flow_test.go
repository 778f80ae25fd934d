package server_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/linkheader"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// wantStatus fails t unless resp has the status want.
func wantStatus(t *testing.T, resp testResponse, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", resp.Request.Method, resp.Request.URL, resp.StatusCode, resp.body, want)
	}
}

// checkBlob fails t unless repo holds blob data, served over srv.
func checkBlob(t *testing.T, srv *httptest.Server, repo, data string) {
	t.Helper()
	resp := doRequest(t, srv, "GET", "/v2/"+repo+"/blobs/"+digest.FromString(data).String(), nil, "")
	wantStatus(t, resp, 200)
	if string(resp.body) != data {
		t.Fatalf("blob = %q, want %q", resp.body, data)
	}
}

func TestServerMonolithicUpload(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	srv, _ := serve(t, store, false)
	resp := doRequest(t, srv, "POST", "/v2/demo/blobs/uploads/", map[string]string{"Content-Length": "0"}, "")
	wantStatus(t, resp, 202)
	loc := resp.Header.Get("Location")
	resp = doRequest(t, srv, "PUT", loc+"?digest="+digest.FromString("monolith").String(), map[string]string{"Content-Type": "application/octet-stream"}, "monolith")
	wantStatus(t, resp, 201)
	checkBlob(t, srv, "demo", "monolith")
	if n := store.Uploads(); n != 0 {
		t.Errorf("Uploads() = %d after the PUT, want 0", n)
	}
}

func TestServerChunkedUpload(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	srv, _ := serve(t, store, false)
	resp := doRequest(t, srv, "POST", "/v2/a/b/blobs/uploads/", nil, "")
	wantStatus(t, resp, 202)
	loc := resp.Header.Get("Location")
	chunks := []string{"first,", "second,", "third"}
	off := 0
	for _, c := range chunks {
		cr := fmt.Sprintf("%d-%d", off, off+len(c)-1)
		resp = doRequest(t, srv, "PATCH", loc, map[string]string{"Content-Range": cr, "Content-Type": "application/octet-stream"}, c)
		wantStatus(t, resp, 202)
		off += len(c)
		if got, want := resp.Header.Get("Range"), fmt.Sprintf("0-%d", off-1); got != want {
			t.Fatalf("PATCH %s: Range = %q, want %q", cr, got, want)
		}
		loc = resp.Header.Get("Location")
	}
	resp = doRequest(t, srv, "PATCH", loc, map[string]string{"Content-Range": "0-5"}, "first,")
	wantStatus(t, resp, 416)
	resp = doRequest(t, srv, "GET", loc, nil, "")
	wantStatus(t, resp, 204)
	if got, want := resp.Header.Get("Range"), fmt.Sprintf("0-%d", off-1); got != want {
		t.Fatalf("status: Range = %q, want %q", got, want)
	}
	whole := strings.Join(chunks, "")
	resp = doRequest(t, srv, "PUT", loc+"?digest="+digest.FromString(whole).String(), nil, "")
	wantStatus(t, resp, 201)
	checkBlob(t, srv, "a/b", whole)
	if n := store.Uploads(); n != 0 {
		t.Errorf("Uploads() = %d after the PUT, want 0", n)
	}
}

func TestServerUploadEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		query  string
		status int
	}{
		{name: "close without digest", method: "PUT", status: 400},
		{name: "close with a bad digest", method: "PUT", query: "?digest=sha256:x", status: 400},
		{name: "close with the wrong digest", method: "PUT", query: "?digest=" + digest.FromString("other").String(), status: 400},
		{name: "cancel", method: "DELETE", status: 204},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := fake.NewStore()
			srv, _ := serve(t, store, false)
			resp := doRequest(t, srv, "POST", "/v2/demo/blobs/uploads/", nil, "")
			wantStatus(t, resp, 202)
			loc := resp.Header.Get("Location")
			wantStatus(t, doRequest(t, srv, "PATCH", loc, nil, "some bytes"), 202)
			wantStatus(t, doRequest(t, srv, tc.method, loc+tc.query, nil, ""), tc.status)
			wantStatus(t, doRequest(t, srv, "GET", loc, nil, ""), 404)
			if n := store.Uploads(); n != 0 {
				t.Errorf("Uploads() = %d, want 0: the session lingers", n)
			}
		})
	}
}

func TestServerConcurrentChunks(t *testing.T) {
	t.Parallel()
	store := fake.NewStore()
	srv, _ := serve(t, store, false)
	resp := doRequest(t, srv, "POST", "/v2/demo/blobs/uploads/", nil, "")
	loc := resp.Header.Get("Location")
	const n = 16
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i] = doRequest(t, srv, "PATCH", loc, map[string]string{"Content-Range": "0-2"}, "abc").StatusCode
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != 202 || statuses[1] != 416 || statuses[n-1] != 416 {
		t.Fatalf("statuses of %d racing first chunks = %v, want one 202 and 416s", n, statuses)
	}
	resp = doRequest(t, srv, "GET", loc, nil, "")
	if got := resp.Header.Get("Range"); got != "0-2" {
		t.Fatalf("Range after the race = %q, want 0-2", got)
	}
}

// follow GETs path and the pages its Link headers name, and returns
// the pages' bodies.
func follow(t *testing.T, srv *httptest.Server, path string) []string {
	t.Helper()
	var bodies []string
	for path != "" {
		if len(bodies) > 100 {
			t.Fatalf("more than 100 pages")
		}
		resp := doRequest(t, srv, "GET", path, nil, "")
		wantStatus(t, resp, 200)
		bodies = append(bodies, string(resp.body))
		next, err := linkheader.Next(resp.Header.Values("Link")...)
		if err != nil {
			t.Fatalf("Link %q: %v", resp.Header.Values("Link"), err)
		}
		path = next
	}
	return bodies
}

func TestServerPaging(t *testing.T) {
	t.Parallel()
	store := fake.NewStore(fake.WithMaxPageSize(2))
	vars := seed(t, store)
	ctx := t.Context()
	mbody := []byte(vars["{manifestbody}"])
	for i := range 5 {
		if _, err := store.PutManifest(ctx, "demo", "w"+strconv.Itoa(i), "", mbody, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, repo := range []string{"c", "b", "a"} {
		if _, err := store.PutManifest(ctx, repo, "x", "", []byte(`{"schemaVersion":2,"manifests":[]}`), nil); err != nil {
			t.Fatal(err)
		}
	}
	subject := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest(vars["{manifest}"]), Size: 100}
	for i := range 3 {
		idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
			Manifests: []ocispec.Descriptor{}, Subject: subject, ArtifactType: "application/vnd.example.sbom", Annotations: map[string]string{"i": strconv.Itoa(i)}})
		if _, err := store.PutManifest(ctx, "demo", digest.FromBytes(idx).String(), "", idx, nil); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := serve(t, store, false)

	tests := []struct {
		name  string
		path  string
		pages int
		want  []string // in the concatenated bodies, in order
	}{
		{name: "tags", path: "/v2/demo/tags/list", pages: 4, want: []string{`"v1","v2"`, `"v3","w0"`, `"w1","w2"`, `"w3","w4"`}},
		{name: "tags by 3, capped at 2", path: "/v2/demo/tags/list?n=3", pages: 4, want: []string{`"v1","v2"`, `"v3","w0"`}},
		{name: "catalog", path: "/v2/_catalog", pages: 3, want: []string{`"a","b"`, `"c","demo"`, `"src"`}},
		{name: "referrers", path: "/v2/demo/referrers/" + vars["{manifest}"], pages: 3, want: []string{vars["{referrer}"], vars["{referrer2}"]}},
		{name: "referrers filtered", path: "/v2/demo/referrers/" + vars["{manifest}"] + "?artifactType=application/vnd.example.sbom", pages: 2, want: []string{vars["{referrer}"], `"i":"2"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bodies := follow(t, srv, tc.path)
			if len(bodies) != tc.pages {
				t.Errorf("GET %s: %d pages, want %d: %q", tc.path, len(bodies), tc.pages, bodies)
			}
			all := strings.Join(bodies, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("GET %s: pages lack %q: %s", tc.path, w, all)
				}
			}
		})
	}
}

func TestServerOneByteSessionResumes(t *testing.T) {
	t.Parallel()
	// The Handler's Range of a one-byte session is "0-0", as for an empty
	// one; the Client learns which from the 416 of its next chunk.
	srv, _ := serve(t, fake.NewStore(), false)
	c, err := remote.New(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tests := []struct {
		name   string
		finish func(t *testing.T, w transport.BlobWriter) error
		want   string
	}{
		{name: "write more", want: "abc", finish: func(t *testing.T, w transport.BlobWriter) error {
			if _, err := w.Write([]byte("bc")); err != nil {
				return err
			}
			if w.Size() != 3 {
				t.Errorf("Size() = %d after writing 2 bytes to a session of 1, want 3", w.Size())
			}
			return w.Commit(ctx, ocispec.Descriptor{Digest: digest.FromString("abc"), Size: 3})
		}},
		{name: "commit at once", want: "a", finish: func(t *testing.T, w transport.BlobWriter) error {
			return w.Commit(ctx, ocispec.Descriptor{Digest: digest.FromString("a"), Size: 1})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, err := c.StartUpload(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("a")); err != nil {
				t.Fatal(err)
			}
			w2, err := c.ResumeUpload(ctx, "app", w.ID())
			if err != nil {
				t.Fatalf("ResumeUpload = %v", err)
			}
			if err := tc.finish(t, w2); err != nil {
				t.Fatalf("resumed one-byte session: %v", err)
			}
			checkBlob(t, srv, "app", tc.want)
		})
	}
}
