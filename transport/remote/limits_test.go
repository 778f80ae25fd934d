package remote

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// jsonArray returns `{"<field>":[entry,entry,…]}` with n entries.
func jsonArray(field, entry string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"` + field + `":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(entry)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// allocated returns how many bytes of heap fn allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestListLimits serves tag pages, gzip-compressed as the client's transport
// asks, past each of the client's limits and within them: a page past a
// limit fails with a *LimitError in one request, and what the client
// allocates stays near the limit whatever the page expands to (issue 13,
// finding 6: 64 MiB of tags sent as 65 KB of gzip took 1.1 GiB).
// Not parallel: it measures the heap.
func TestListLimits(t *testing.T) {
	realTags := make([]string, 10_000)
	for i := range realTags {
		realTags[i] = fmt.Sprintf("%q", fmt.Sprintf("v1.%d.%d-build.%06d", i/100, i%100, i))
	}
	tests := []struct {
		name      string
		body      []byte
		opts      []Option
		wantUnit  string // of the *LimitError; "" for success
		wantItems int
		maxAlloc  uint64
		big       bool // skipped under the race detector, which takes a minute over it
	}{
		{
			name: "a real page", body: []byte(`{"name":"x","tags":[` + strings.Join(realTags, ",") + `]}`),
			wantItems: len(realTags), maxAlloc: 8 << 20,
		},
		{
			// 33 MiB of one-letter tags, some 40 KB on the wire: the
			// old client decoded all 8.6 million.
			name: "decompressed past the byte limit", body: jsonArray("tags", `"a"`, (DefaultMaxListSize+1<<20)/4),
			wantUnit: "bytes", maxAlloc: 3 * DefaultMaxListSize, big: true,
		},
		{
			name: "past the entry limit", body: jsonArray("tags", `"a"`, DefaultMaxListEntries+1),
			wantUnit: "entries", maxAlloc: 24 << 20, big: true,
		},
		{
			name: "catalog past the entry limit", body: jsonArray("repositories", `"a"`, DefaultMaxListEntries+1),
			wantUnit: "entries", maxAlloc: 24 << 20, big: true,
		},
		{
			name: "past a lowered entry limit", body: jsonArray("tags", `"a"`, 1001), opts: []Option{WithMaxListEntries(1000)},
			wantUnit: "entries", maxAlloc: 1 << 20,
		},
		{
			name: "at a lowered entry limit", body: jsonArray("tags", `"a"`, 1000), opts: []Option{WithMaxListEntries(1000)},
			wantItems: 1000, maxAlloc: 1 << 20,
		},
		{
			name: "past a lowered byte limit", body: jsonArray("tags", `"a"`, 1<<20), opts: []Option{WithMaxListSize(1 << 20)},
			wantUnit: "bytes", maxAlloc: 6 << 20,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.big && raceEnabled {
				t.Skip("a page of this size takes a minute under the race detector; run without -race")
			}
			wire := gzipped(tc.body)
			var requests, gzipSent atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					gzipSent.Add(1)
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(wire)
					return
				}
				w.Write(tc.body)
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv, tc.opts...)
			list := c.ListTags
			if bytes.HasPrefix(tc.body, []byte(`{"repositories"`)) {
				list = func(ctx context.Context, _ string, req transport.PageRequest) (transport.Page[string], error) {
					return c.ListRepositories(ctx, req)
				}
			}
			var page transport.Page[string]
			var err error
			alloc := allocated(func() { page, err = list(t.Context(), "x", transport.PageRequest{}) })
			var le *transport.LimitError
			switch {
			case tc.wantUnit == "" && err != nil:
				t.Fatalf("ListTags = %v, want %d tags", err, tc.wantItems)
			case tc.wantUnit == "" && len(page.Items) != tc.wantItems:
				t.Errorf("ListTags = %d tags, want %d", len(page.Items), tc.wantItems)
			case tc.wantUnit != "" && (!errors.As(err, &le) || le.Unit != tc.wantUnit || !errors.Is(err, transport.ErrLimitExceeded)):
				t.Errorf("ListTags = %d tags, %v; want a *LimitError of %s", len(page.Items), err, tc.wantUnit)
			}
			if gzipSent.Load() == 0 {
				t.Errorf("the client did not ask for gzip: the test tests nothing")
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("ListTags sent %d requests, want 1", n)
			}
			if raceEnabled {
				tc.maxAlloc *= 2 // the race detector's runtime allocates more
			}
			if alloc > tc.maxAlloc {
				t.Errorf("ListTags allocated %d MiB for a page of %d MiB (%d KiB on the wire), want at most %d MiB",
					alloc>>20, len(tc.body)>>20, len(wire)>>10, tc.maxAlloc>>20)
			}
			t.Logf("%d KiB on the wire, %d KiB decompressed: %d MiB allocated", len(wire)>>10, len(tc.body)>>10, alloc>>20)
		})
	}
}

// TestReferrersLimit serves referrer pages and fallback indexes of empty
// descriptors, which decode to many times their size: more than
// MaxReferrersPerPage fail with a *LimitError.
func TestReferrersLimit(t *testing.T) {
	t.Parallel()
	subject := digest.FromString("subject")
	real := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest.FromString("sig").String() +
		`","size":512,"artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json"}`
	tests := []struct {
		name      string
		api       bool
		entry     string
		n         int
		wantLimit bool
	}{
		{name: "API page, real", api: true, entry: real, n: 1000},
		{name: "API page past the limit", api: true, entry: "{}", n: MaxReferrersPerPage + 1, wantLimit: true},
		{name: "fallback index, real", entry: real, n: 1000},
		{name: "fallback index past the limit", entry: "{}", n: MaxReferrersPerPage + 1, wantLimit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := append([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",`), jsonArray("manifests", tc.entry, tc.n)[1:]...)
			tr, c := newTestReg(t, func(tr *testReg) {
				tr.referrersAPI = tc.api
				tr.hook = func(w http.ResponseWriter, r *http.Request) bool {
					if strings.Contains(r.URL.Path, "/referrers/") && !tc.api {
						return false
					}
					if !strings.Contains(r.URL.Path, "/referrers/") && !strings.HasSuffix(r.URL.Path, "/manifests/"+referrersTag(subject)) {
						return false
					}
					w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
					w.Write(body)
					return true
				}
			})
			page, err := c.ListReferrers(t.Context(), "x", subject, "", transport.PageRequest{})
			var le *transport.LimitError
			switch {
			case tc.wantLimit && (!errors.As(err, &le) || le.Unit != "entries" || le.Limit != MaxReferrersPerPage):
				t.Errorf("ListReferrers = %d descriptors, %v; want a *LimitError of %d entries", len(page.Items), err, MaxReferrersPerPage)
			case !tc.wantLimit && (err != nil || len(page.Items) != tc.n):
				t.Errorf("ListReferrers = %d descriptors, %v; want %d", len(page.Items), err, tc.n)
			}
			if n := len(tr.requests()); n > 2 {
				t.Errorf("ListReferrers sent %d requests, want at most 2", n)
			}
		})
	}
}

// countingReader counts what is read of r.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestChunkMinLimit has a registry ask for chunks of a terabyte: an upload
// that would hold them in memory (a blob of unknown size, a BlobWriter)
// fails with a *LimitError before it reads a byte; one that streams (known
// size) goes on; a modest minimum is honoured (issue 13, finding 7: a
// 512 MiB upload of unknown size took 2 GiB of heap).
// Not parallel: it measures the heap.
func TestChunkMinLimit(t *testing.T) {
	const size = 8 << 20
	blob := bytes.Repeat([]byte("regkit"), size/6)
	desc := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	tests := []struct {
		name      string
		chunkMin  int64
		unknown   bool // PutBlob of unknown size
		writer    bool // through StartUpload's BlobWriter
		wantLimit bool
		maxAlloc  uint64
		wantPatch int
	}{
		{name: "unknown size, 1 TiB minimum", chunkMin: 1 << 40, unknown: true, wantLimit: true, maxAlloc: 1 << 20},
		{name: "writer, 1 TiB minimum", chunkMin: 1 << 40, writer: true, wantLimit: true, maxAlloc: 1 << 20},
		{name: "known size, 1 TiB minimum", chunkMin: 1 << 40},
		{name: "unknown size, just past the limit", chunkMin: DefaultMaxChunkMin + 1, unknown: true, wantLimit: true, maxAlloc: 1 << 20},
		{name: "unknown size, 3 MiB minimum", chunkMin: 3 << 20, unknown: true, wantPatch: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, c := newTestReg(t, func(tr *testReg) { tr.chunkMin = tc.chunkMin; tr.singlePOST = false }, WithChunkSize(1<<20))
			src := &countingReader{r: bytes.NewReader(blob)}
			var err error
			alloc := allocated(func() {
				switch {
				case tc.writer:
					var w transport.BlobWriter
					if w, err = c.StartUpload(t.Context(), "x"); err != nil {
						return
					}
					if _, err = io.Copy(w, src); err == nil {
						err = w.Commit(t.Context(), desc)
					}
				case tc.unknown:
					err = c.PutBlob(t.Context(), "x", ocispec.Descriptor{Digest: desc.Digest, Size: -1}, src)
				default:
					err = c.PutBlob(t.Context(), "x", desc, src)
				}
			})
			log := tr.requests()
			var le *transport.LimitError
			switch {
			case tc.wantLimit && (!errors.As(err, &le) || le.Got != tc.chunkMin || le.Limit != DefaultMaxChunkMin):
				t.Errorf("upload = %v, want a *LimitError: %d bytes asked, %d allowed", err, tc.chunkMin, DefaultMaxChunkMin)
			case tc.wantLimit && (src.n.Load() != 0 || countPrefixed(log, "PATCH") != 0):
				t.Errorf("upload read %d bytes and sent %d PATCH requests before failing, want none", src.n.Load(), countPrefixed(log, "PATCH"))
			case !tc.wantLimit && err != nil:
				t.Errorf("upload = %v, want success", err)
			case !tc.wantLimit && countPrefixed(log, "PATCH") != tc.wantPatch:
				t.Errorf("upload sent %d PATCH requests (%v), want %d", countPrefixed(log, "PATCH"), log, tc.wantPatch)
			}
			if tc.maxAlloc > 0 && alloc > tc.maxAlloc {
				t.Errorf("upload allocated %d KiB, want at most %d KiB", alloc>>10, tc.maxAlloc>>10)
			}
			t.Logf("%d KiB allocated, requests %v", alloc>>10, log)
		})
	}
}

func TestCountEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{`[]`, 0}, {` [ ] `, 0}, {`null`, 0}, {`["a"]`, 1}, {`["a","b"]`, 2}, {`[ "a" , "b" ]`, 2},
		{`["a,b","c]","d\"e,"]`, 3}, {`[{"a":[1,2,3]},[4,5],"x\\",6,true,null]`, 6}, {`[12345, -1.5e3]`, 2},
		{`[{},{},{}]`, 3}, {`["\\\\", "]"]`, 2},
	}
	for _, tc := range tests {
		if got := countEntries([]byte(tc.in), 100); got != tc.want {
			t.Errorf("countEntries(%s) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if got := countEntries([]byte(`[1,2,3,4,5]`), 3); got != 3 {
		t.Errorf("countEntries(5 entries, stop 3) = %d, want 3", got)
	}
}

// FuzzCountEntries checks countEntries against encoding/json on every
// valid JSON array.
func FuzzCountEntries(f *testing.F) {
	for _, s := range []string{`[]`, `["a","b"]`, `[{"a":[1,2]},"x\\",3]`, `["\"]\"", [[]], {}]`, `[1e5,-0.5,true,false,null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []json.RawMessage
		if json.Unmarshal([]byte(s), &want) != nil {
			return
		}
		if got := countEntries([]byte(s), len(want)+1); got != len(want) {
			t.Errorf("countEntries(%s) = %d, want %d", s, got, len(want))
		}
	})
}

// TestChunkMinNotRemembered checks that a chunk minimum beyond the limit
// fails only the session it came with: once the registry asks for a sane
// one again, an upload of unknown size goes through.
func TestChunkMinNotRemembered(t *testing.T) {
	blob := bytes.Repeat([]byte("regkit"), 1<<10)
	desc := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: -1}
	tr, c := newTestReg(t, func(tr *testReg) { tr.chunkMin = 1 << 40; tr.singlePOST = false }, WithChunkSize(1<<20))
	var le *transport.LimitError
	if err := c.PutBlob(t.Context(), "x", desc, bytes.NewReader(blob)); !errors.As(err, &le) {
		t.Fatalf("upload with a 1 TiB minimum = %v, want a *LimitError", err)
	}
	tr.mu.Lock()
	tr.chunkMin = 0
	tr.mu.Unlock()
	if err := c.PutBlob(t.Context(), "x", desc, bytes.NewReader(blob)); err != nil {
		t.Fatalf("upload once the registry asks no minimum = %v, want success", err)
	}
}
