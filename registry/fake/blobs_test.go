package fake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

// pattern returns n bytes that differ from chunk to chunk.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/chunkSize)
	}
	return b
}

var errBroken = errors.New("broken reader")

func TestPutBlob(t *testing.T) {
	t.Parallel()
	big := pattern(3*chunkSize + 7)
	tests := []struct {
		name    string
		alg     digest.Algorithm
		data    []byte                      // what the reader gives
		edit    func(d *ocispec.Descriptor) // changes the descriptor of data
		reader  func(data []byte) io.Reader // nil: bytes.NewReader
		wantErr error
	}{
		{name: "sha256", alg: digest.SHA256, data: []byte("hello")},
		{name: "sha384", alg: digest.SHA384, data: []byte("hello")},
		{name: "sha512", alg: digest.SHA512, data: big},
		{name: "empty", alg: digest.SHA256, data: nil},
		{name: "several chunks", alg: digest.SHA256, data: big},
		{name: "unknown size", alg: digest.SHA256, data: big, edit: func(d *ocispec.Descriptor) { d.Size = 0 }},
		{name: "unknown size one byte reads", alg: digest.SHA512, data: pattern(10_000),
			edit:   func(d *ocispec.Descriptor) { d.Size = 0 },
			reader: func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
		{name: "data with EOF", alg: digest.SHA256, data: big,
			reader: func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
		{name: "half reads", alg: digest.SHA256, data: big,
			reader: func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
		{name: "short stream", alg: digest.SHA256, data: []byte("hello"),
			edit: func(d *ocispec.Descriptor) { d.Size = 6 }, wantErr: transport.ErrSizeInvalid},
		{name: "long stream", alg: digest.SHA256, data: []byte("hello"),
			edit: func(d *ocispec.Descriptor) { d.Size = 4 }, wantErr: transport.ErrSizeInvalid},
		{name: "negative size means unknown", alg: digest.SHA256, data: []byte("hello"),
			edit: func(d *ocispec.Descriptor) { d.Size = -1 }},
		{name: "wrong digest", alg: digest.SHA256, data: []byte("hello"),
			edit: func(d *ocispec.Descriptor) { d.Digest = digest.FromString("world") }, wantErr: transport.ErrDigestInvalid},
		{name: "wrong digest unknown size", alg: digest.SHA512, data: big,
			edit: func(d *ocispec.Descriptor) {
				d.Size = 0
				d.Digest = digest.SHA512.FromString("x")
			}, wantErr: transport.ErrDigestInvalid},
		{name: "reader fails", alg: digest.SHA256, data: []byte("hello"),
			reader:  func(b []byte) io.Reader { return iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(b))) },
			wantErr: iotest.ErrTimeout},
		{name: "reader fails at once", alg: digest.SHA256, data: []byte("hello"),
			reader:  func([]byte) io.Reader { return iotest.ErrReader(errBroken) },
			wantErr: errBroken},
	}
	for _, m := range modes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := m.store()
				ctx := t.Context()
				desc := descOf(tc.alg, tc.data)
				if tc.edit != nil {
					tc.edit(&desc)
				}
				var r io.Reader = bytes.NewReader(tc.data)
				if tc.reader != nil {
					r = tc.reader(tc.data)
				}
				err := s.PutBlob(ctx, "repo", desc, r)
				checkErr(t, "PutBlob", err, tc.wantErr)
				if tc.wantErr != nil {
					if n := s.BlobCount(); n != 0 {
						t.Errorf("BlobCount() = %d after failed PutBlob, want 0", n)
					}
					_, err := s.StatBlob(ctx, "repo", desc.Digest)
					checkErr(t, "StatBlob after failed PutBlob", err, transport.ErrNameUnknown)
					return
				}
				got, err := s.StatBlob(ctx, "repo", desc.Digest)
				checkErr(t, "StatBlob", err, nil)
				if got.Digest != desc.Digest || got.Size != int64(len(tc.data)) {
					t.Errorf("StatBlob = %s %d, want %s %d", got.Digest, got.Size, desc.Digest, len(tc.data))
				}
				rc, gdesc, err := s.GetBlob(ctx, "repo", desc.Digest)
				checkErr(t, "GetBlob", err, nil)
				defer rc.Close()
				if !sameDesc(gdesc, got) {
					t.Errorf("GetBlob descriptor = %v, want %v", gdesc, got)
				}
				b, err := io.ReadAll(rc) // Read, not WriteTo
				if err != nil || !bytes.Equal(b, tc.data) {
					t.Errorf("GetBlob read %d bytes (%v), want the %d put", len(b), err, len(tc.data))
				}
				checkChunks(t, s.blobs[desc.Digest].data)
			})
		}
	}
}

// checkChunks checks the invariant of content: every chunk but the last is
// full, and no chunk has spare capacity once sealed.
func checkChunks(t *testing.T, c *content) {
	t.Helper()
	if c.file != nil {
		if len(c.chunks) != 0 || c.file.length != c.size {
			t.Errorf("content in a file of %d bytes holds %d bytes and %d chunks", c.file.length, c.size, len(c.chunks))
		}
		return
	}
	var total int64
	for i, ch := range c.chunks {
		total += int64(len(ch))
		if i < len(c.chunks)-1 && len(ch) != chunkSize {
			t.Errorf("chunk %d of %d has %d bytes, want %d", i, len(c.chunks), len(ch), chunkSize)
		}
		if cap(ch) != len(ch) {
			t.Errorf("chunk %d has capacity %d for %d bytes", i, cap(ch), len(ch))
		}
	}
	if total != c.size {
		t.Errorf("chunks hold %d bytes, size says %d", total, c.size)
	}
}

// endless gives bytes forever and counts them.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	e.n += int64(len(p))
	return len(p), nil
}

func TestPutBlobStopsReadingLongStream(t *testing.T) {
	t.Parallel()
	s := NewStore()
	r := new(endless)
	desc := ocispec.Descriptor{Digest: digest.FromString("x"), Size: 3*chunkSize + 100}
	err := s.PutBlob(t.Context(), "repo", desc, r)
	checkErr(t, "PutBlob(endless)", err, transport.ErrSizeInvalid)
	if r.n != desc.Size+1 {
		t.Errorf("PutBlob read %d bytes of an endless stream, want %d", r.n, desc.Size+1)
	}
}

// cancelReader cancels a context on its first read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}

func TestPutBlobContextCancelledWhileStreaming(t *testing.T) {
	t.Parallel()
	s := NewStore()
	data := pattern(2 * chunkSize)
	ctx, cancel := context.WithCancel(t.Context())
	r := &cancelReader{r: iotest.HalfReader(bytes.NewReader(data)), cancel: cancel}
	err := s.PutBlob(ctx, "repo", descOf(digest.SHA256, data), r)
	checkErr(t, "PutBlob", err, context.Canceled)
	if s.BlobCount() != 0 {
		t.Errorf("BlobCount() = %d after cancelled PutBlob, want 0", s.BlobCount())
	}
}

func TestPutBlobSharesExistingCopy(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			testPutBlobSharesExistingCopy(t, m.store())
		})
	}
}

func testPutBlobSharesExistingCopy(t *testing.T, s *Store) {
	ctx := t.Context()
	data := pattern(chunkSize + 1)
	desc := putBlob(t, s, "a", data)
	first := s.blobs[desc.Digest].data

	// The same bytes again, in another repository: shared, not copied.
	putBlob(t, s, "b", data)
	if s.BlobCount() != 1 {
		t.Errorf("BlobCount() = %d after pushing one blob to two repositories, want 1", s.BlobCount())
	}
	if s.blobs[desc.Digest].data != first {
		t.Error("second PutBlob replaced the stored bytes")
	}

	// Other bytes claiming the same digest are refused and change nothing.
	forged := bytes.Clone(data)
	forged[0]++
	err := s.PutBlob(ctx, "c", desc, bytes.NewReader(forged))
	checkErr(t, "PutBlob(forged)", err, transport.ErrDigestInvalid)
	_, err = s.StatBlob(ctx, "c", desc.Digest)
	checkErr(t, "StatBlob(c)", err, transport.ErrNameUnknown)

	// A blob deleted while it is being pushed again is restored.
	r := &hookReader{r: bytes.NewReader(data), hook: func() {
		checkErr(t, "DeleteBlob(a)", s.DeleteBlob(ctx, "a", desc.Digest), nil)
		checkErr(t, "DeleteBlob(b)", s.DeleteBlob(ctx, "b", desc.Digest), nil)
	}}
	checkErr(t, "PutBlob(d)", s.PutBlob(ctx, "d", desc, r), nil)
	rc, _, err := s.GetBlob(ctx, "d", desc.Digest)
	checkErr(t, "GetBlob(d)", err, nil)
	var got bytes.Buffer
	if _, err := io.Copy(&got, rc); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Errorf("GetBlob(d) read %d bytes (%v), want %d", got.Len(), err, len(data))
	}
	if s.BlobCount() != 1 || s.blobs[desc.Digest].refs != 1 {
		t.Errorf("after restore: %d blobs, refs %d; want 1, 1", s.BlobCount(), s.blobs[desc.Digest].refs)
	}
	rc.Close()
	checkDeleted(t, s, "d", desc.Digest)
}

// hookReader calls hook before its first read.
type hookReader struct {
	r    io.Reader
	hook func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.hook != nil {
		h.hook()
		h.hook = nil
	}
	return h.r.Read(p)
}

func TestStatBlobErrors(t *testing.T) {
	t.Parallel()
	s := NewStore()
	desc := putBlob(t, s, "has", []byte("blob"))
	putBlob(t, s, "other", []byte("other blob"))
	tests := []struct {
		name, repo string
		want       error
	}{
		{name: "found", repo: "has"},
		{name: "unknown repository", repo: "nope", want: transport.ErrNameUnknown},
		{name: "blob of another repository", repo: "other", want: transport.ErrBlobUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.StatBlob(t.Context(), tc.repo, desc.Digest)
			checkErr(t, "StatBlob", err, tc.want)
			_, _, err = s.GetBlob(t.Context(), tc.repo, desc.Digest)
			checkErr(t, "GetBlob", err, tc.want)
			if tc.want != nil && !errors.Is(err, transport.ErrNotFound) {
				t.Errorf("GetBlob = %v, want it to match ErrNotFound", err)
			}
		})
	}
}

func TestMountBlob(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	data := pattern(chunkSize + 5)
	desc := putBlob(t, s, "src", data)
	putBlob(t, s, "empty", []byte("something else"))
	tests := []struct {
		name, repo, from string
		want             error
	}{
		{name: "into a new repository", repo: "dst", from: "src"},
		{name: "into the same repository", repo: "src", from: "src"},
		{name: "twice", repo: "dst", from: "src"},
		{name: "from a mounted copy", repo: "dst2", from: "dst"},
		{name: "from an unknown repository", repo: "dst3", from: "nope", want: transport.ErrBlobUnknown},
		{name: "from a repository without it", repo: "dst3", from: "empty", want: transport.ErrBlobUnknown},
	}
	for _, tc := range tests { // in order: later cases use earlier mounts
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, "MountBlob", s.MountBlob(ctx, tc.repo, tc.from, desc.Digest), tc.want)
			_, err := s.StatBlob(ctx, tc.repo, desc.Digest)
			if tc.want != nil {
				checkErr(t, "StatBlob", err, transport.ErrNameUnknown)
				return
			}
			checkErr(t, "StatBlob", err, nil)
		})
	}
	if s.BlobCount() != 2 {
		t.Errorf("BlobCount() = %d after mounts, want 2", s.BlobCount())
	}
	if refs := s.blobs[desc.Digest].refs; refs != 3 {
		t.Errorf("mounted blob is held by %d repositories, want 3 (src, dst, dst2)", refs)
	}
	rc, _, err := s.GetBlob(ctx, "dst2", desc.Digest)
	checkErr(t, "GetBlob(dst2)", err, nil)
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, data) {
		t.Error("mounted blob reads other bytes")
	}
}

func TestDeleteBlob(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	desc := putBlob(t, s, "a", []byte("blob"))
	checkErr(t, "MountBlob", s.MountBlob(ctx, "b", "a", desc.Digest), nil)
	other := putBlob(t, s, "a", []byte("kept"))

	checkErr(t, "DeleteBlob(a)", s.DeleteBlob(ctx, "a", desc.Digest), nil)
	if s.BlobCount() != 2 {
		t.Errorf("BlobCount() = %d while b still holds the blob, want 2", s.BlobCount())
	}
	_, err := s.StatBlob(ctx, "a", desc.Digest)
	checkErr(t, "StatBlob(a) after delete", err, transport.ErrBlobUnknown)
	_, err = s.StatBlob(ctx, "b", desc.Digest)
	checkErr(t, "StatBlob(b) after delete from a", err, nil)

	checkErr(t, "DeleteBlob(a) again", s.DeleteBlob(ctx, "a", desc.Digest), transport.ErrBlobUnknown)
	checkErr(t, "DeleteBlob(unknown repo)", s.DeleteBlob(ctx, "nope", desc.Digest), transport.ErrNameUnknown)

	rc, _, err := s.GetBlob(ctx, "b", desc.Digest) // stays readable once deleted
	checkErr(t, "GetBlob(b)", err, nil)
	checkErr(t, "DeleteBlob(b)", s.DeleteBlob(ctx, "b", desc.Digest), nil)
	if s.BlobCount() != 1 {
		t.Errorf("BlobCount() = %d once no repository holds the blob, want 1", s.BlobCount())
	}
	if got, err := io.ReadAll(rc); err != nil || string(got) != "blob" {
		t.Errorf("reader opened before the delete read %q, %v", got, err)
	}
	if _, err := s.StatBlob(ctx, "a", other.Digest); err != nil {
		t.Errorf("StatBlob(other) = %v", err)
	}
}

func TestPutBlobUnknownSizeReader(t *testing.T) {
	t.Parallel()
	// A reader that gives nothing but EOF makes an empty blob.
	s := NewStore()
	empty := descOf(digest.SHA256, nil)
	checkErr(t, "PutBlob(empty)", s.PutBlob(t.Context(), "repo", empty, strings.NewReader("")), nil)
	if got, _ := s.StatBlob(t.Context(), "repo", empty.Digest); got.Size != 0 {
		t.Errorf("empty blob has size %d", got.Size)
	}
}
