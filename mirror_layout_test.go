package regkit_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// indexWatch is a decorator of a layout's Store that looks at the file
// index.json after every manifest put, recording each new file it finds.
type indexWatch struct {
	transport.Transport
	path string

	mu    sync.Mutex
	files []os.FileInfo // each index.json seen, in turn
}

func (w *indexWatch) Unwrap() transport.Transport { return w.Transport }

func (w *indexWatch) PutManifest(ctx context.Context, repo, ref, mt string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	desc, err := w.Transport.PutManifest(ctx, repo, ref, mt, body, opts)
	w.look()
	return desc, err
}

// look records index.json if it is another file than the last one seen.
func (w *indexWatch) look() {
	fi, err := os.Stat(w.path)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.files); n > 0 {
		last := w.files[n-1]
		if os.SameFile(last, fi) && last.Size() == fi.Size() && last.ModTime().Equal(fi.ModTime()) {
			return
		}
	}
	w.files = append(w.files, fi)
}

// TestMirrorIntoLayoutWritesIndexOnce mirrors 10 tags into an OCI layout
// and checks that its index.json was written once, when the mirror ended,
// not once per tag: the Store batches the tag writes.
func TestMirrorIntoLayoutWritesIndexOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tags := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}
	src := fake.New().Repository("app")
	seedTags(t, src, 2, tags...)

	dir := t.TempDir()
	s, err := ocilayout.NewStore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	w := &indexWatch{Transport: s, path: filepath.Join(dir, "app", "index.json")}
	dst := repository.New(w, "app")
	_, err = dst.Push(ctx, sharedImage(t, "seed", 2), "seed") // the repository exists
	require.NoError(t, err)
	w.files = nil
	w.look()

	rep, err := regkit.Mirror(ctx, src, dst, nil)
	require.NoError(t, err)
	require.Equal(t, len(tags), rep.Count(regkit.MirrorCopied))
	w.look()
	require.Len(t, w.files, 2, "index.json before the mirror and after it, none in between")
	require.Equal(t, append([]string{"seed"}, tags...), tagsOf(t, dst))
}
