package ocilayout_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/transport"
)

// TestConcurrentWrites runs writers, readers and listers of one repository
// at once (run it with -race): every tag written is there at the end,
// index.json is whole, and no temporary file is left.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	const workers = 12
	shared, diffID := testimage.Layer(ocispec.MediaTypeImageLayer, []byte("a layer every image shares "+randomHex(8)))
	imgs := make([]*image.Image, workers)
	for i := range imgs {
		cfg := testimage.Config(ocispec.Platform{OS: "linux", Architecture: "amd64"}, []digest.Digest{diffID}, map[string]string{"i": fmt.Sprint(i)})
		imgs[i] = mustImage(t, image.BytesBlob(ocispec.MediaTypeImageConfig, cfg), []image.Blob{shared})
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*8)
	for i, img := range imgs {
		wg.Go(func() {
			// The shared layer is put by every worker at once.
			desc, err := pushErr(ctx, s, "app", img, fmt.Sprintf("v%d", i), "scratch")
			if err != nil {
				errs <- err
				return
			}
			if _, err := s.PutManifest(ctx, "app", "latest", "", img.Raw(), nil); err != nil {
				errs <- err
			}
			if _, err := s.DeleteTag(ctx, "app", "scratch"); err != nil && !isUnknown(err) {
				errs <- err
			}
			if err := s.MountBlob(ctx, fmt.Sprintf("mirror%d", i%3), "app", shared.Descriptor().Digest); err != nil {
				errs <- err
			}
			if _, _, err := s.GetManifest(ctx, "app", desc.Digest.String()); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := s.ListTags(ctx, "app", transport.PageRequest{}); err != nil && !isUnknown(err) {
				errs <- err
			}
			if _, err := s.ListRepositories(ctx, transport.PageRequest{}); err != nil {
				errs <- err
			}
			if _, err := s.ListReferrers(ctx, "app", img.Descriptor().Digest, "", transport.PageRequest{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	page, err := s.ListTags(ctx, "app", transport.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range workers {
		if !slices.Contains(page.Items, fmt.Sprintf("v%d", i)) {
			t.Errorf("tag v%d lost: tags = %v", i, page.Items)
		}
	}
	if !slices.Contains(page.Items, "latest") {
		t.Errorf("tag latest lost: tags = %v", page.Items)
	}
	latest, err := s.HeadManifest(ctx, "app", "latest")
	if err != nil || !slices.ContainsFunc(imgs, func(img *image.Image) bool { return img.Descriptor().Digest == latest.Digest }) {
		t.Errorf("latest = %s, %v; want one of the pushed images", latest.Digest, err)
	}
	if n := countEntries(readIndex(t, s.Dir(), "app"), "latest"); n != 1 {
		t.Errorf("index.json has %d entries tagged latest, want 1", n)
	}
	if tmp := tempFiles(t, s.Dir()); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func isUnknown(err error) bool { return errors.Is(err, transport.ErrNotFound) }

// TestParallelUploadsIntoANewRepository puts 16 blobs at once into
// repositories that do not exist yet, as a parallel push does: the layout
// and its temporary directory are made by whichever upload comes first,
// and none of the others fails for finding them made. (On a loaded machine
// os.Root.MkdirAll lost that race: "mkdirat …/.regkit-tmp: file exists".)
func TestParallelUploadsIntoANewRepository(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	for r := range 16 {
		repo := fmt.Sprintf("team/new%d", r)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			b := image.BytesBlob(ocispec.MediaTypeImageLayer, []byte(fmt.Sprintf("blob %d of %s %s", i, repo, randomHex(4))))
			wg.Go(func() {
				rc, err := b.Open(ctx)
				if err != nil {
					errs <- err
					return
				}
				defer rc.Close()
				if err := s.PutBlob(ctx, repo, b.Descriptor(), rc); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("PutBlob into new repository %s: %v", repo, err)
		}
	}
}
