package verify

import (
	"errors"
	"fmt"
	"io"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/repository/progress"
)

// progressInterval is how many bytes move between two BlobBytes events, as
// [progress.With] documents.
const progressInterval = 256 << 10

// Meter reports the progress of one blob to an observer (see
// [progress.With]): it counts the bytes as they move, throttles
// the BlobBytes events, and keeps the events in order. It reports every
// kind but BlobBytes at most once, and nothing once it has reported
// BlobDone, so callers need not track what they reported. It is safe for
// concurrent use.
type Meter struct {
	obs  progress.Observer
	repo string
	desc ocispec.Descriptor

	mu   sync.Mutex // held while the observer runs, so events never overlap
	n    int64      // bytes counted
	last int64      // n at the last event
	seen uint32     // the kinds reported, one bit each
}

// NewMeter returns a Meter of the blob desc of repository repo, reporting
// to obs, which may be nil.
func NewMeter(obs progress.Observer, repo string, desc ocispec.Descriptor) *Meter {
	return &Meter{obs: obs, repo: repo, desc: desc}
}

// Add counts n more bytes, and reports BlobBytes when at least 256 KiB
// have moved since the last event.
func (m *Meter) Add(n int) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n += int64(n)
	if m.n-m.last >= progressInterval {
		m.report(progress.BlobBytes)
	}
}

// Report reports an event of kind k. Before BlobVerified and BlobDone it
// reports the bytes counted since the last event, so the last BlobBytes
// event counts them all.
func (m *Meter) Report(k progress.Kind) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if (k == progress.BlobVerified || k == progress.BlobDone) && m.n > m.last {
		m.report(progress.BlobBytes)
	}
	m.report(k)
}

// N returns the number of bytes counted.
func (m *Meter) N() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// report reports k with m.mu held.
func (m *Meter) report(k progress.Kind) {
	bit := uint32(1) << k
	if m.seen&(1<<progress.BlobDone) != 0 || (k != progress.BlobBytes && m.seen&bit != 0) {
		return
	}
	m.seen |= bit
	m.last = m.n
	m.obs.Report(progress.Event{Kind: k, Repository: m.repo, Descriptor: m.desc, Done: m.n})
}

// Metered reports BlobStarted for r's blob of repository repo to obs, and returns r reporting the rest as it is read:
// BlobBytes, then BlobVerified and BlobDone at the verified end of the
// stream. A blob that fails verification reports neither. Its errors name
// the blob and the repository.
func Metered(obs progress.Observer, repo string, r *Reader) io.ReadCloser {
	m := NewMeter(obs, repo, r.desc)
	m.Report(progress.BlobStarted)
	return &meteredReader{r: r, m: m}
}

// meteredReader is the reader Metered returns.
type meteredReader struct {
	r *Reader
	m *Meter
}

func (mr *meteredReader) Read(p []byte) (int, error) {
	n, err := mr.r.Read(p)
	mr.m.Add(n)
	switch {
	case err == io.EOF: // Reader returns io.EOF itself, and only once verified
		mr.m.Report(progress.BlobVerified)
		mr.m.Report(progress.BlobDone)
	case err != nil:
		err = fmt.Errorf("read blob %s in %s: %w", mr.m.desc.Digest, mr.m.repo, err)
	}
	return n, err
}

func (mr *meteredReader) Close() error { return mr.r.Close() }

// errInvalidWrite is the error of WriteTo when its writer returns an
// impossible count, as io.Copy's.
var errInvalidWrite = errors.New("invalid write result")

// copyBufs holds the buffers of WriteTo.
var copyBufs = sync.Pool{New: func() any { return new([copyBufSize]byte) }}

// copyBufSize is the size of the reads of WriteTo: io.Copy's own are 32 KiB,
// and io.Discard's 8 KiB; reading a blob in bigger pieces costs fewer
// system calls.
const copyBufSize = 256 << 10

// WriteTo implements [io.WriterTo], which [io.Copy] prefers: it reads the
// blob in 256 KiB pieces whatever w is, and returns the verification error
// of Read at the end of the stream.
func (mr *meteredReader) WriteTo(w io.Writer) (int64, error) {
	buf := copyBufs.Get().(*[copyBufSize]byte)
	defer copyBufs.Put(buf)
	var total int64
	for {
		n, err := mr.Read(buf[:])
		if n > 0 {
			m, werr := w.Write(buf[:n])
			if m < 0 || m > n {
				m = 0
				if werr == nil {
					werr = errInvalidWrite
				}
			}
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
