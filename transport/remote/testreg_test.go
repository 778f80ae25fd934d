package remote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// testReg is a small in-memory registry for the client's tests, with
// switches for the features registries differ on. Unlike the fake registry
// it does not validate much: it stores what it is given.
type testReg struct {
	t *testing.T

	// Switches, set before use.
	referrersAPI bool  // serve /referrers/ and send OCI-Subject
	ifMatch      bool  // honour If-Match and If-None-Match on manifest PUTs
	tagDelete    bool  // allow DELETE of a tag (else 405)
	singlePOST   bool  // store the body of POST ?digest= (else 202)
	selfMountErr int   // status for a mount with from == name (0: mount)
	chunkMin     int64 // OCI-Chunk-Min-Length

	// hook, if set, may answer a request before the registry does.
	hook func(w http.ResponseWriter, r *http.Request) bool

	mu        sync.Mutex
	log       []string
	blobs     map[digest.Digest][]byte
	manifests map[string]map[digest.Digest]testManifest
	tags      map[string]map[string]digest.Digest
	uploads   map[string]*bytes.Buffer
	nextID    int
}

type testManifest struct {
	mediaType string
	body      []byte
}

// newTestReg starts a test registry and a client of it.
func newTestReg(t *testing.T, setup func(*testReg), opts ...Option) (*testReg, *Client) {
	t.Helper()
	tr := &testReg{
		t: t, referrersAPI: true, ifMatch: true, tagDelete: true, singlePOST: true,
		blobs:     map[digest.Digest][]byte{},
		manifests: map[string]map[digest.Digest]testManifest{},
		tags:      map[string]map[string]digest.Digest{},
		uploads:   map[string]*bytes.Buffer{},
	}
	if setup != nil {
		setup(tr)
	}
	srv := httptest.NewServer(tr)
	t.Cleanup(srv.Close)
	return tr, newTestClient(t, srv, opts...)
}

// newTestClient returns a client of srv.
func newTestClient(t *testing.T, srv *httptest.Server, opts ...Option) *Client {
	t.Helper()
	c, err := New(strings.TrimPrefix(srv.URL, "http://"), opts...)
	if err != nil {
		t.Fatalf("remote.New(%s) = %v", srv.URL, err)
	}
	return c
}

// requests returns the log of requests ("METHOD /path?query") and clears it.
func (tr *testReg) requests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	l := tr.log
	tr.log = nil
	return l
}

// count returns how many logged requests start with prefix.
func countPrefixed(log []string, prefix string) int {
	n := 0
	for _, l := range log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func (tr *testReg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tr.mu.Lock()
	tr.log = append(tr.log, r.Method+" "+r.URL.RequestURI())
	tr.mu.Unlock()
	if tr.hook != nil && tr.hook(w, r) {
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	for _, route := range []struct {
		sep string
		fn  func(http.ResponseWriter, *http.Request, string, string)
	}{
		{"/blobs/uploads/", tr.serveUpload},
		{"/manifests/", tr.serveManifest},
		{"/blobs/", tr.serveBlob},
		{"/referrers/", tr.serveReferrers},
		{"/tags/list", tr.serveTags},
	} {
		if i := strings.LastIndex(p, route.sep); i > 0 {
			route.fn(w, r, p[:i], p[i+len(route.sep):])
			return
		}
	}
	http.NotFound(w, r)
}

func testError(w http.ResponseWriter, status int, code transport.Code) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"test registry says %s"}]}`, string(code), code.Text())
}

func (tr *testReg) resolve(repo, ref string) (testManifest, digest.Digest, bool) {
	d := digest.Digest(ref)
	if !strings.Contains(ref, ":") {
		d = tr.tags[repo][ref]
	}
	m, ok := tr.manifests[repo][d]
	return m, d, ok
}

func (tr *testReg) serveManifest(w http.ResponseWriter, r *http.Request, repo, ref string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		m, d, ok := tr.resolve(repo, ref)
		if !ok {
			testError(w, http.StatusNotFound, transport.CodeManifestUnknown)
			return
		}
		w.Header().Set("Content-Type", m.mediaType)
		w.Header().Set("Docker-Content-Digest", d.String())
		w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
		if r.Method == http.MethodGet {
			w.Write(m.body)
		}
	case http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		d := digest.FromBytes(body)
		tag := ""
		if strings.Contains(ref, ":") {
			d = digest.Digest(ref)
		} else {
			tag = ref
		}
		if tag != "" && tr.ifMatch {
			cur, exists := tr.tags[repo][tag]
			if im := r.Header.Get("If-Match"); im != "" && (!exists || `"`+cur.String()+`"` != im) {
				testError(w, http.StatusPreconditionFailed, transport.CodePreconditionFailed)
				return
			}
			if r.Header.Get("If-None-Match") == "*" && exists {
				testError(w, http.StatusPreconditionFailed, transport.CodePreconditionFailed)
				return
			}
		}
		if tr.manifests[repo] == nil {
			tr.manifests[repo] = map[digest.Digest]testManifest{}
			tr.tags[repo] = map[string]digest.Digest{}
		}
		tr.manifests[repo][d] = testManifest{mediaType: r.Header.Get("Content-Type"), body: body}
		if tag != "" {
			tr.tags[repo][tag] = d
		}
		var info manifestInfo
		_ = json.Unmarshal(body, &info)
		if info.Subject != nil && tr.referrersAPI {
			w.Header().Set("OCI-Subject", info.Subject.Digest.String())
		}
		w.Header().Set("Docker-Content-Digest", d.String())
		w.Header().Set("Location", r.URL.Path)
		w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if !strings.Contains(ref, ":") {
			if !tr.tagDelete {
				testError(w, http.StatusMethodNotAllowed, transport.CodeUnsupported)
				return
			}
			if _, ok := tr.tags[repo][ref]; !ok {
				testError(w, http.StatusNotFound, transport.CodeManifestUnknown)
				return
			}
			delete(tr.tags[repo], ref)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		d := digest.Digest(ref)
		if _, ok := tr.manifests[repo][d]; !ok {
			testError(w, http.StatusNotFound, transport.CodeManifestUnknown)
			return
		}
		delete(tr.manifests[repo], d)
		for t, td := range tr.tags[repo] {
			if td == d {
				delete(tr.tags[repo], t)
			}
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (tr *testReg) serveReferrers(w http.ResponseWriter, r *http.Request, repo, subject string) {
	if !tr.referrersAPI {
		http.NotFound(w, r)
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	ix := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	ix.SchemaVersion = 2
	for d, m := range tr.manifests[repo] {
		var info manifestInfo
		if json.Unmarshal(m.body, &info) == nil && info.Subject != nil && info.Subject.Digest.String() == subject {
			ix.Manifests = append(ix.Manifests, referrerDescriptor(ocispec.Descriptor{MediaType: m.mediaType, Digest: d, Size: int64(len(m.body))}, info))
		}
	}
	slices.SortFunc(ix.Manifests, func(a, b ocispec.Descriptor) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	json.NewEncoder(w).Encode(ix)
}

func (tr *testReg) serveTags(w http.ResponseWriter, r *http.Request, repo, _ string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.tags[repo] == nil {
		testError(w, http.StatusNotFound, transport.CodeNameUnknown)
		return
	}
	tags := slices.Sorted(func(yield func(string) bool) {
		for t := range tr.tags[repo] {
			if !yield(t) {
				return
			}
		}
	})
	json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": tags})
}

func (tr *testReg) serveBlob(w http.ResponseWriter, r *http.Request, repo, ref string) {
	tr.mu.Lock()
	b, ok := tr.blobs[digest.Digest(ref)]
	if ok && r.Method == http.MethodDelete {
		delete(tr.blobs, digest.Digest(ref))
	}
	tr.mu.Unlock()
	if !ok {
		testError(w, http.StatusNotFound, transport.CodeBlobUnknown)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		w.WriteHeader(http.StatusAccepted)
	default:
		w.Header().Set("Docker-Content-Digest", ref)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}
}

func (tr *testReg) serveUpload(w http.ResponseWriter, r *http.Request, repo, id string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		if m := q.Get("mount"); m != "" {
			if q.Get("from") == repo && tr.selfMountErr != 0 {
				testError(w, tr.selfMountErr, transport.CodeUnsupported)
				return
			}
			if _, ok := tr.blobs[digest.Digest(m)]; ok {
				w.Header().Set("Location", "/v2/"+repo+"/blobs/"+m)
				w.WriteHeader(http.StatusCreated)
				return
			}
		}
		if d := q.Get("digest"); d != "" && tr.singlePOST {
			if digest.FromBytes(body).String() != d {
				testError(w, http.StatusBadRequest, transport.CodeDigestInvalid)
				return
			}
			tr.blobs[digest.Digest(d)] = body
			w.WriteHeader(http.StatusCreated)
			return
		}
		tr.nextID++
		id := strconv.Itoa(tr.nextID)
		tr.uploads[id] = &bytes.Buffer{}
		if tr.chunkMin > 0 {
			w.Header().Set("OCI-Chunk-Min-Length", strconv.FormatInt(tr.chunkMin, 10))
		}
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id+"?_state=s"+id)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	buf, ok := tr.uploads[id]
	if !ok {
		testError(w, http.StatusNotFound, transport.CodeBlobUploadUnknown)
		return
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Range", fmt.Sprintf("0-%d", max(buf.Len()-1, 0)))
		w.Header().Set("Location", r.URL.RequestURI())
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		if cr := r.Header.Get("Content-Range"); cr != "" && !strings.HasPrefix(cr, strconv.Itoa(buf.Len())+"-") {
			w.Header().Set("Range", fmt.Sprintf("0-%d", max(buf.Len()-1, 0)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		io.Copy(buf, r.Body)
		w.Header().Set("Location", r.URL.Path+"?_state=p"+strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPut:
		if cr := r.Header.Get("Content-Range"); cr != "" && !strings.HasPrefix(cr, strconv.Itoa(buf.Len())+"-") {
			w.Header().Set("Range", fmt.Sprintf("0-%d", max(buf.Len()-1, 0)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		if _, err := io.Copy(buf, r.Body); err != nil {
			return
		}
		d := digest.Digest(q.Get("digest"))
		delete(tr.uploads, id)
		if digest.FromBytes(buf.Bytes()) != d {
			testError(w, http.StatusBadRequest, transport.CodeDigestInvalid)
			return
		}
		tr.blobs[d] = buf.Bytes()
		w.Header().Set("Location", "/v2/"+repo+"/blobs/"+d.String())
		w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		delete(tr.uploads, id)
		w.WriteHeader(http.StatusNoContent)
	}
}
