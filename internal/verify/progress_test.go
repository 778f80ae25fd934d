package verify

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// events records what an observer receives.
type events struct {
	mu sync.Mutex
	ps []progress.Event
}

func (e *events) observe(p progress.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ps = append(e.ps, p)
}

// kinds returns the kinds received, each with its Done.
func (e *events) kinds() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, p := range e.ps {
		out = append(out, p.Kind.String()+" "+strconv.FormatInt(p.Done, 10))
	}
	return out
}

func TestMeter(t *testing.T) {
	t.Parallel()
	const k = 1 << 10
	tests := []struct {
		name string
		run  func(m *Meter)
		want []string
	}{
		{
			name: "small reads are throttled",
			run: func(m *Meter) {
				m.Report(progress.BlobStarted)
				for range 10 {
					m.Add(32 * k) // 320 KiB: one event, at 256 KiB
				}
				m.Report(progress.BlobDone)
			},
			want: []string{"blob started 0", "blob bytes 262144", "blob bytes 327680", "blob done 327680"},
		},
		{
			name: "a large read reports once",
			run: func(m *Meter) {
				m.Report(progress.BlobStarted)
				m.Add(1 << 20)
				m.Add(0)
				m.Report(progress.BlobVerified)
				m.Report(progress.BlobDone)
			},
			want: []string{"blob started 0", "blob bytes 1048576", "blob verified 1048576", "blob done 1048576"},
		},
		{
			name: "verified flushes the bytes not yet reported",
			run: func(m *Meter) {
				m.Report(progress.BlobStarted)
				m.Add(10)
				m.Report(progress.BlobVerified)
				m.Report(progress.BlobDone)
			},
			want: []string{"blob started 0", "blob bytes 10", "blob verified 10", "blob done 10"},
		},
		{
			name: "each kind once",
			run: func(m *Meter) {
				m.Report(progress.BlobStarted)
				m.Report(progress.BlobStarted)
				m.Add(10)
				m.Report(progress.BlobVerified)
				m.Report(progress.BlobVerified)
				m.Report(progress.BlobDone)
			},
			want: []string{"blob started 0", "blob bytes 10", "blob verified 10", "blob done 10"},
		},
		{
			name: "nothing after done",
			run: func(m *Meter) {
				m.Report(progress.BlobSkipped)
				m.Report(progress.BlobDone)
				m.Add(300 * k)
				m.Report(progress.BlobVerified)
				m.Report(progress.BlobDone)
			},
			want: []string{"blob skipped 0", "blob done 0"},
		},
		{
			name: "empty blob",
			run: func(m *Meter) {
				m.Report(progress.BlobStarted)
				m.Report(progress.BlobDone)
			},
			want: []string{"blob started 0", "blob done 0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e events
			m := NewMeter(e.observe, "repo", ocispec.Descriptor{Digest: digest.FromString(tc.name)})
			tc.run(m)
			if got := e.kinds(); !slices.Equal(got, tc.want) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
			for _, p := range e.ps {
				if p.Repository != "repo" || p.Descriptor.Digest != digest.FromString(tc.name) {
					t.Errorf("event %+v names the wrong blob", p)
				}
			}
		})
	}
}

// TestMeterWithoutObserver counts bytes even when nobody listens.
func TestMeterWithoutObserver(t *testing.T) {
	t.Parallel()
	m := NewMeter(nil, "repo", ocispec.Descriptor{})
	m.Report(progress.BlobStarted)
	m.Add(300 << 10)
	m.Add(5)
	if got, want := m.N(), int64(300<<10+5); got != want {
		t.Errorf("N() = %d, want %d", got, want)
	}
}

func TestMetered(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB
	d := digest.FromBytes(content)
	size := strconv.FormatInt(int64(len(content)), 10)
	tests := []struct {
		name    string
		data    []byte
		wantErr error
		want    []string
	}{
		{
			name: "verified",
			data: content,
			want: []string{"blob started 0", "blob bytes 262144", "blob bytes 524288", "blob bytes " + size, "blob verified " + size, "blob done " + size},
		},
		{
			name:    "corrupted",
			data:    append(slices.Clone(content[:len(content)-1]), 'x'),
			wantErr: transport.ErrDigestInvalid,
			want:    []string{"blob started 0", "blob bytes 262144", "blob bytes 524288"},
		},
		{
			name:    "too short",
			data:    content[:100],
			wantErr: transport.ErrSizeInvalid,
			want:    []string{"blob started 0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e events
			r, err := NewReader(io.NopCloser(bytes.NewReader(tc.data)), ocispec.Descriptor{Digest: d, Size: int64(len(content))})
			if err != nil {
				t.Fatal(err)
			}
			rc := Metered(e.observe, "repo", r)
			defer rc.Close()
			buf := make([]byte, 32<<10)
			for err == nil {
				_, err = rc.Read(buf)
			}
			if tc.wantErr == nil && err != io.EOF || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Read = %v, want %v", err, tc.wantErr)
			}
			_, _ = rc.Read(buf) // reading past the end reports nothing more
			if got := e.kinds(); !slices.Equal(got, tc.want) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
}
