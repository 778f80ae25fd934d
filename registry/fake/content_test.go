package fake

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestBlobReader(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			testBlobReader(t, m.store())
		})
	}
}

func testBlobReader(t *testing.T, s *Store) {
	data := pattern(2*chunkSize + 10)
	desc := putBlob(t, s, "repo", data)
	open := func(t *testing.T) io.ReadSeekCloser {
		rc, _, err := s.GetBlob(t.Context(), "repo", desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return rc.(io.ReadSeekCloser)
	}

	t.Run("seek and read across chunks", func(t *testing.T) {
		t.Parallel()
		r := open(t)
		for _, tc := range []struct {
			offset int64
			whence int
			want   int64
		}{
			{chunkSize - 3, io.SeekStart, chunkSize - 3},
			{2, io.SeekCurrent, chunkSize + 7}, // after reading 8 bytes
			{-10, io.SeekEnd, int64(len(data)) - 10},
		} {
			pos, err := r.Seek(tc.offset, tc.whence)
			if err != nil || pos != tc.want {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tc.offset, tc.whence, pos, err, tc.want)
			}
			buf := make([]byte, 8)
			n, err := io.ReadFull(r, buf)
			if err != nil || !bytes.Equal(buf[:n], data[pos:pos+8]) {
				t.Errorf("read after Seek to %d = % x, %v; want % x", pos, buf[:n], err, data[pos:pos+8])
			}
		}
	})
	t.Run("seek errors and end", func(t *testing.T) {
		t.Parallel()
		r := open(t)
		if _, err := r.Seek(0, 42); !errors.Is(err, errSeekWhence) {
			t.Errorf("Seek(0, 42) = %v, want %v", err, errSeekWhence)
		}
		if _, err := r.Seek(-1, io.SeekStart); !errors.Is(err, errSeekNegative) {
			t.Errorf("Seek(-1) = %v, want %v", err, errSeekNegative)
		}
		if _, err := r.Seek(10, io.SeekEnd); err != nil {
			t.Fatalf("Seek past the end = %v", err)
		}
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("Read past the end = %d, %v; want 0, EOF", n, err)
		}
		r.Seek(0, io.SeekStart)
		if n, err := r.Read(nil); n != 0 || err != nil {
			t.Errorf("Read(nil) = %d, %v; want 0, nil", n, err)
		}
	})
	t.Run("WriteTo", func(t *testing.T) {
		t.Parallel()
		r := open(t)
		r.Seek(chunkSize+1, io.SeekStart)
		var buf bytes.Buffer
		n, err := r.(io.WriterTo).WriteTo(&buf)
		if err != nil || n != int64(len(data))-chunkSize-1 || !bytes.Equal(buf.Bytes(), data[chunkSize+1:]) {
			t.Errorf("WriteTo = %d, %v; want the %d bytes after the offset", n, err, len(data)-chunkSize-1)
		}
		if n, err := r.(io.WriterTo).WriteTo(&buf); n != 0 || err != nil {
			t.Errorf("WriteTo at the end = %d, %v; want 0, nil", n, err)
		}
	})
	t.Run("WriteTo errors", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			w    io.Writer
			want error
		}{
			{"failing writer", &limitedWriter{left: chunkSize + 2, err: errBroken}, errBroken},
			{"short writer", &limitedWriter{left: chunkSize + 2}, io.ErrShortWrite},
		} {
			r := open(t)
			n, err := r.(io.WriterTo).WriteTo(tc.w)
			if !errors.Is(err, tc.want) || n != chunkSize+2 {
				t.Errorf("%s: WriteTo = %d, %v; want %d, %v", tc.name, n, err, chunkSize+2, tc.want)
			}
			if pos, _ := r.Seek(0, io.SeekCurrent); pos != n {
				t.Errorf("%s: offset after WriteTo = %d, want %d", tc.name, pos, n)
			}
		}
	})
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		r := open(t)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(make([]byte, 1)); !errors.Is(err, errReaderClosed) {
			t.Errorf("Read after Close = %v, want %v", err, errReaderClosed)
		}
		if _, err := r.Seek(0, io.SeekStart); !errors.Is(err, errReaderClosed) {
			t.Errorf("Seek after Close = %v, want %v", err, errReaderClosed)
		}
		if _, err := r.(io.WriterTo).WriteTo(io.Discard); !errors.Is(err, errReaderClosed) {
			t.Errorf("WriteTo after Close = %v, want %v", err, errReaderClosed)
		}
	})
}

// limitedWriter accepts left bytes, then fails with err, or writes short
// when err is nil.
type limitedWriter struct {
	left int
	err  error
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.left)
	w.left -= n
	if n < len(p) {
		return n, w.err
	}
	return n, nil
}

func TestContentWrite(t *testing.T) {
	t.Parallel()
	data := pattern(2*chunkSize + 12345)
	tests := []struct {
		name   string
		pieces []int // sizes of the writes, repeated
	}{
		{name: "one write", pieces: []int{len(data)}},
		{name: "tiny writes", pieces: []int{1, 3, 7}},
		{name: "io.Copy writes", pieces: []int{32 << 10}},
		{name: "odd writes", pieces: []int{chunkSize - 1, 2, 1000, chunkSize + 3}},
	}
	for _, m := range modes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c := content{files: &files{spillAt: m.spillAt, open: openMemfd}}
				defer c.drop()
				for rest, i := data, 0; len(rest) > 0; i++ {
					n := min(tc.pieces[i%len(tc.pieces)], len(rest))
					c.write(rest[:n])
					rest = rest[n:]
				}
				c.seal()
				checkChunks(t, &c)
				var got bytes.Buffer
				_ = c.each(0, func(b []byte) error { got.Write(b); return nil })
				if !bytes.Equal(got.Bytes(), data) {
					t.Errorf("content holds other bytes than written")
				}
			})
		}
		var empty content
		empty.room(0)
		empty.seal()
		if len(empty.chunks) != 0 {
			t.Errorf("sealed empty content keeps %d chunks", len(empty.chunks))
		}
	}
}

// TestUploadAllocatesOnce streams 32 MiB into an upload in 32 KiB writes,
// as the HTTP server does, and checks that the store allocates the blob's
// size once (within 10%), not once per doubling of a buffer. It is not
// parallel, so that no other test allocates meanwhile.
func TestUploadAllocatesOnce(t *testing.T) {
	const size = 32 << 20
	s := NewStore()
	piece := make([]byte, 32<<10)
	for i := range piece {
		piece[i] = byte(i * 7)
	}
	h := digest.SHA256.Digester()
	for range size / len(piece) {
		h.Hash().Write(piece)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, err := s.StartUpload(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	for range size / len(piece) {
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(t.Context(), ocispec.Descriptor{Digest: h.Digest(), Size: size}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > size*11/10 {
		t.Errorf("upload of %d MiB allocated %.1f MiB, want at most 1.1×", size>>20, float64(got)/(1<<20))
	}
}
