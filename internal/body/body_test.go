package body

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func TestLazy(t *testing.T) {
	t.Parallel()
	errBroken := errors.New("broken")
	tests := []struct {
		name       string
		src        io.Reader
		openErr    error
		read       bool // read to the end before closing
		wantOpened bool
		wantN      int64
		wantErr    error
	}{
		{name: "never read", src: strings.NewReader("blob")},
		{name: "read", src: strings.NewReader("blob"), read: true, wantOpened: true, wantN: 4},
		{name: "open fails", openErr: errBroken, read: true, wantErr: errBroken},
		{name: "read fails", src: io.MultiReader(strings.NewReader("bl"), iotest.ErrReader(errBroken)), read: true, wantOpened: true, wantN: 2, wantErr: errBroken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opens := 0
			var reads [][2]int64
			l := New(func() (io.ReadCloser, error) {
				opens++
				if tc.openErr != nil {
					return nil, tc.openErr
				}
				return io.NopCloser(tc.src), nil
			}, func(from, to int64, err error) { reads = append(reads, [2]int64{from, to}) })
			if tc.read {
				_, err := io.Copy(io.Discard, l)
				if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
					t.Fatalf("read = %v, want %v", err, tc.wantErr)
				}
				// The error sticks, without opening again.
				if _, again := l.Read(make([]byte, 1)); tc.wantErr != nil && !errors.Is(again, tc.wantErr) {
					t.Errorf("second read = %v, want %v", again, tc.wantErr)
				}
			}
			l.Close()
			if err := l.Close(); err != nil { // again: nothing to do
				t.Errorf("second Close = %v", err)
			}
			if l.Opened() != tc.wantOpened || l.N() != tc.wantN || !errors.Is(l.Err(), tc.wantErr) {
				t.Errorf("opened %v, %d bytes, error %v; want %v, %d, %v", l.Opened(), l.N(), l.Err(), tc.wantOpened, tc.wantN, tc.wantErr)
			}
			wantOpens := 0
			if tc.read {
				wantOpens = 1
			}
			if opens != wantOpens {
				t.Errorf("opened %d times, want %d", opens, wantOpens)
			}
			var last int64
			for _, r := range reads {
				if r[0] != last || r[1] < r[0] {
					t.Errorf("reads %v do not follow each other", reads)
				}
				last = r[1]
			}
			if _, err := l.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
				t.Errorf("read after Close = %v, want ErrClosed", err)
			}
		})
	}
}

// TestLazyCloseWaitsForARead checks that Close waits for a Read under way,
// and that no Read after it reaches the source (run with -race).
func TestLazyCloseWaitsForARead(t *testing.T) {
	t.Parallel()
	src := bytes.Repeat([]byte("x"), 1<<20)
	l := New(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(src)), nil }, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 100)
		for {
			if _, err := l.Read(buf); err != nil {
				return
			}
		}
	})
	l.Close()
	wg.Wait()
	if _, err := l.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read after Close = %v, want ErrClosed, an os.ErrClosed", err)
	}
}
