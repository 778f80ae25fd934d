package fake

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/transport"
)

// TestUploadReadFrom checks the session's io.ReaderFrom, the server's way
// in for request bodies: the bytes are staged and hashed as Write stages
// them, a limited reader sizes the chunks exactly, and the session's
// limits and state apply.
func TestUploadReadFrom(t *testing.T) {
	t.Parallel()
	data := pattern(3*chunkSize + 4321)
	tests := []struct {
		name      string
		opts      []Option
		before    int   // bytes written with Write first
		truncate  int64 // then truncated to, if >= 0
		src       func(r io.Reader, n int64) io.Reader
		cancel    bool // the session is cancelled first
		wantErr   error
		wantExact bool // the chunks hold no spare capacity
	}{
		{name: "limited", truncate: -1, src: io.LimitReader, wantExact: true},
		{name: "unknown length", truncate: -1, src: func(r io.Reader, _ int64) io.Reader { return r }},
		{name: "after a write", before: 1000, truncate: -1, src: io.LimitReader, wantExact: true},
		{name: "after a truncate", before: 5000, truncate: 1000, src: io.LimitReader, wantExact: true},
		{name: "small reads", truncate: -1, src: func(r io.Reader, n int64) io.Reader {
			return io.LimitReader(&oneByteLess{r: r}, n)
		}, wantExact: true},
		{name: "beyond the upload bytes", opts: []Option{WithMaxUploadBytes(chunkSize)}, truncate: -1,
			src: io.LimitReader, wantErr: transport.ErrTooManyRequests},
		{name: "cancelled", truncate: -1, src: io.LimitReader, cancel: true, wantErr: transport.ErrBlobUploadUnknown},
		{name: "broken reader", truncate: -1, src: func(r io.Reader, n int64) io.Reader {
			return io.MultiReader(io.LimitReader(r, 10), iotest.ErrReader(errBroken))
		}, wantErr: errBroken},
	}
	for _, m := range modes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := m.store(tc.opts...)
				ctx := t.Context()
				w, err := s.StartUpload(ctx, "repo")
				checkErr(t, "StartUpload", err, nil)
				if _, err := w.Write(data[:tc.before]); err != nil {
					t.Fatal(err)
				}
				kept := int64(tc.before)
				if tc.truncate >= 0 {
					checkErr(t, "Truncate", w.(transport.BlobTruncater).Truncate(tc.truncate), nil)
					kept = tc.truncate
				}
				if tc.cancel {
					checkErr(t, "Cancel", w.Cancel(ctx), nil)
				}
				rf, ok := w.(io.ReaderFrom)
				if !ok {
					t.Fatal("the session does not implement io.ReaderFrom")
				}
				rest := int64(len(data)) - kept
				n, err := rf.ReadFrom(tc.src(bytes.NewReader(data[kept:]), rest))
				checkErr(t, "ReadFrom", err, tc.wantErr)
				if tc.wantErr != nil {
					if limit := s.maxUploadBytes; limit > 0 && s.UploadBytes() > limit {
						t.Errorf("the sessions hold %d bytes, beyond the limit of %d", s.UploadBytes(), limit)
					}
					return
				}
				if n != rest {
					t.Errorf("ReadFrom = %d, want %d", n, rest)
				}
				u := w.(*upload)
				if u.data.file != nil {
					checkChunks(t, &u.data)
				} else if tc.wantExact {
					var spare int
					for _, c := range u.data.chunks[:len(u.data.chunks)-1] {
						spare += cap(c) - len(c)
					}
					last := u.data.chunks[len(u.data.chunks)-1]
					if spare += cap(last) - len(last); spare != 0 {
						t.Errorf("the chunks have %d bytes of spare capacity, want 0", spare)
					}
				}
				desc := descOf(digest.SHA256, data)
				checkErr(t, "Commit", w.Commit(ctx, desc), nil)
				rc, _, err := s.GetBlob(ctx, "repo", desc.Digest)
				checkErr(t, "GetBlob", err, nil)
				got, _ := io.ReadAll(rc)
				if !bytes.Equal(got, data) {
					t.Error("the blob's bytes differ from those pushed")
				}
			})
		}
	}
}

// oneByteLess reads one byte less than asked, to make reads that do not
// fill the space they are given.
type oneByteLess struct{ r io.Reader }

func (o *oneByteLess) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:len(p)-1]
	}
	return o.r.Read(p)
}
