package verify

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

func TestReader(t *testing.T) {
	t.Parallel()
	content := []byte("some blob content")
	d := digest.FromBytes(content)
	tests := []struct {
		name    string
		desc    ocispec.Descriptor
		data    []byte
		wantErr error
	}{
		{"matches", ocispec.Descriptor{Digest: d, Size: int64(len(content))}, content, nil},
		{"unknown size", ocispec.Descriptor{Digest: d, Size: -1}, content, nil},
		{"sha512", ocispec.Descriptor{Digest: digest.SHA512.FromBytes(content), Size: int64(len(content))}, content, nil},
		{"wrong digest", ocispec.Descriptor{Digest: digest.FromString("x"), Size: int64(len(content))}, content, transport.ErrDigestInvalid},
		{"too long", ocispec.Descriptor{Digest: d, Size: 4}, content, transport.ErrSizeInvalid},
		{"too short", ocispec.Descriptor{Digest: d, Size: int64(len(content))}, content[:5], transport.ErrSizeInvalid},
		{"corrupted", ocispec.Descriptor{Digest: d, Size: int64(len(content))}, bytes.ToUpper(content), transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReader(io.NopCloser(bytes.NewReader(tc.data)), tc.desc)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, err = io.ReadAll(r)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadAll = %v, want %v", err, tc.wantErr)
			}
			// The error sticks.
			if _, again := r.Read(make([]byte, 1)); tc.wantErr != nil && !errors.Is(again, tc.wantErr) {
				t.Errorf("second Read = %v, want %v", again, tc.wantErr)
			}
		})
	}
}

func TestNewReaderBadDigest(t *testing.T) {
	t.Parallel()
	if _, err := NewReader(io.NopCloser(bytes.NewReader(nil)), ocispec.Descriptor{Digest: "sha256:abc"}); !errors.Is(err, transport.ErrDigestInvalid) {
		t.Fatalf("NewReader(bad digest) = %v, want ErrDigestInvalid", err)
	}
}

// TestReaderBigBlob covers the blobs hashed on their own goroutine: the
// verdict is the same, and Close before the end stops the hashing.
func TestReaderBigBlob(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789abcdef"), (hashAheadMin+12345)/16)
	corrupt := bytes.Clone(content)
	corrupt[len(corrupt)-7] ^= 1
	desc := ocispec.Descriptor{Digest: digest.FromBytes(content), Size: int64(len(content))}
	tests := []struct {
		name    string
		data    []byte
		bufSize int // the reader's chunks; bigger than the hasher's buffers too
		wantErr error
	}{
		{"matches", content, 32 << 10, nil},
		{"matches in big reads", content, 3 * aheadBufSize / 2, nil},
		{"corrupted near the end", corrupt, 32 << 10, transport.ErrDigestInvalid},
		{"short", content[:len(content)-1], 32 << 10, transport.ErrSizeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReader(io.NopCloser(bytes.NewReader(tc.data)), desc)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, make([]byte, tc.bufSize))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("copy = %v, want %v", err, tc.wantErr)
			}
			if r.ahead != nil {
				t.Error("the hasher still runs after the end of the stream")
			}
		})
	}

	t.Run("closed during a read", func(t *testing.T) {
		t.Parallel()
		pr, pw := io.Pipe()
		go pw.Write(content[:len(content)/2]) // then the stream stalls
		r, err := NewReader(pr, desc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, make([]byte, len(content)/2)); err != nil {
			t.Fatal(err)
		}
		if r.ahead == nil {
			t.Fatal("a big blob is hashed on the calling goroutine")
		}
		done := make(chan error)
		go func() {
			_, err := r.Read(make([]byte, 1024))
			done <- err
		}()
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Read stalled by Close = %v, want os.ErrClosed", err)
		}
	})
}

// TestReadAfterClose checks that bytes read after Close (from a source
// whose Close does not stop it) are never judged: they may have been
// hashed in part, so the verdict would be a false DIGEST_INVALID.
func TestReadAfterClose(t *testing.T) {
	t.Parallel()
	for _, size := range []int{100, hashAheadMin + 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			content := bytes.Repeat([]byte{'x'}, size)
			r, err := NewReader(io.NopCloser(bytes.NewReader(content)), ocispec.Descriptor{Digest: digest.FromBytes(content), Size: int64(size)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, make([]byte, size/2)); err != nil {
				t.Fatal(err)
			}
			r.Close()
			_, err = io.ReadAll(r)
			if !errors.Is(err, os.ErrClosed) || remote.IsRetryable(err) || errors.Is(err, transport.ErrDigestInvalid) {
				t.Fatalf("ReadAll after Close = %v, want os.ErrClosed", err)
			}
		})
	}
}

// blockingHash blocks every Write until release is closed.
type blockingHash struct {
	hash.Hash
	release chan struct{}
}

func (h blockingHash) Write(p []byte) (int, error) {
	<-h.release
	return h.Hash.Write(p)
}

func TestHashAheadAbortUnblocksAWrite(t *testing.T) {
	t.Parallel()
	h := blockingHash{sha256.New(), make(chan struct{})}
	defer close(h.release)
	a := newHashAhead(h)
	written := make(chan struct{})
	go func() {
		// One buffer more than the hasher holds: the write waits for it.
		a.write(make([]byte, (aheadBufs+1)*aheadBufSize))
		close(written)
	}()
	select {
	case <-written:
		t.Fatal("write did not wait for the stuck hasher")
	case <-time.After(20 * time.Millisecond):
	}
	go a.abort() // waits for the hasher, which is stuck until the test ends
	<-written
}

func TestMeteredErrorNamesBlobAndRepository(t *testing.T) {
	t.Parallel()
	desc := ocispec.Descriptor{Digest: digest.FromString("want"), Size: 3}
	r, err := NewReader(io.NopCloser(bytes.NewReader([]byte("got"))), desc)
	if err != nil {
		t.Fatal(err)
	}
	mr := Metered(nil, "team/app", r)
	defer mr.Close()
	_, err = io.ReadAll(mr)
	if !errors.Is(err, transport.ErrDigestInvalid) {
		t.Fatalf("ReadAll = %v, want ErrDigestInvalid", err)
	}
	for _, want := range []string{"team/app", desc.Digest.String(), "content hashes to " + digest.FromString("got").String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// shortWriter writes at most n bytes per call, without an error.
type shortWriter struct{ n int }

func (w shortWriter) Write(p []byte) (int, error) { return min(len(p), w.n), nil }

// liarWriter claims to have written more than it was given.
type liarWriter struct{}

func (liarWriter) Write(p []byte) (int, error) { return len(p) + 1, nil }

// errDiskFull is the error of failWriter.
var errDiskFull = errors.New("disk full")

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// TestMeteredWriteTo covers the io.Copy path: the same bytes, the same
// verdict, and the writer's failures passed on.
func TestMeteredWriteTo(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789"), copyBufSize/4) // 2.5 buffers
	desc := ocispec.Descriptor{Digest: digest.FromBytes(content), Size: int64(len(content))}
	corrupt := bytes.Clone(content)
	corrupt[len(corrupt)-1] ^= 1
	tests := []struct {
		name    string
		data    []byte
		w       func(*bytes.Buffer) io.Writer
		wantErr error
	}{
		{name: "whole", data: content, w: func(b *bytes.Buffer) io.Writer { return b }},
		{name: "corrupt", data: corrupt, w: func(b *bytes.Buffer) io.Writer { return b }, wantErr: transport.ErrDigestInvalid},
		{name: "short write", data: content, w: func(*bytes.Buffer) io.Writer { return shortWriter{100} }, wantErr: io.ErrShortWrite},
		{name: "writer fails", data: content, w: func(*bytes.Buffer) io.Writer { return failWriter{} }, wantErr: errDiskFull},
		{name: "writer lies", data: content, w: func(*bytes.Buffer) io.Writer { return liarWriter{} }, wantErr: errInvalidWrite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReader(io.NopCloser(bytes.NewReader(tc.data)), desc)
			if err != nil {
				t.Fatal(err)
			}
			mr := Metered(nil, "app", r)
			defer mr.Close()
			if _, ok := mr.(io.WriterTo); !ok {
				t.Fatal("the metered reader is no io.WriterTo")
			}
			var buf bytes.Buffer
			n, err := io.Copy(tc.w(&buf), mr)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("io.Copy = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (n != int64(len(content)) || !bytes.Equal(buf.Bytes(), content)) {
				t.Errorf("copied %d bytes, want the %d of the content", n, len(content))
			}
		})
	}
}

func TestAgainIfCorrupt(t *testing.T) {
	t.Parallel()
	errOther := errors.New("other")
	tests := []struct {
		name      string
		first     error
		second    error
		wantRuns  []bool
		wantError error
	}{
		{name: "ok", wantRuns: []bool{false}},
		{name: "other error", first: errOther, wantRuns: []bool{false}, wantError: errOther},
		{name: "corrupt, then ok", first: transport.ErrDigestInvalid, wantRuns: []bool{false, true}},
		{name: "short, then short", first: transport.ErrSizeInvalid, second: transport.ErrSizeInvalid, wantRuns: []bool{false, true}, wantError: transport.ErrSizeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var runs []bool
			err := AgainIfCorrupt(func(again bool) error {
				runs = append(runs, again)
				if again {
					return tc.second
				}
				return tc.first
			})
			if !errors.Is(err, tc.wantError) || (err == nil) != (tc.wantError == nil) {
				t.Errorf("AgainIfCorrupt = %v, want %v", err, tc.wantError)
			}
			if fmt.Sprint(runs) != fmt.Sprint(tc.wantRuns) {
				t.Errorf("runs %v, want %v", runs, tc.wantRuns)
			}
		})
	}
}
