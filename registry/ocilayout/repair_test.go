package ocilayout_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// TestPutRepairsCorruptBlob damages a blob file on disk, then puts the
// right bytes again, by each way a blob is written: the file is whole again.
func TestPutRepairsCorruptBlob(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("the right bytes "), 4096)
	damages := map[string]func([]byte) []byte{
		"a byte flipped": func(p []byte) []byte { p = slices.Clone(p); p[len(p)/2] ^= 1; return p },
		"truncated":      func(p []byte) []byte { return p[:len(p)/3] },
		"empty":          func([]byte) []byte { return nil },
	}
	puts := map[string]func(t *testing.T, s *ocilayout.Store){
		"PutBlob": func(t *testing.T, s *ocilayout.Store) { putBytes(t, s, "app", data) },
		"PutBlob of unknown size": func(t *testing.T, s *ocilayout.Store) {
			desc := descOf(digest.SHA256, data)
			desc.Size = 0
			if err := s.PutBlob(t.Context(), "app", desc, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
		},
		"upload session": func(t *testing.T, s *ocilayout.Store) {
			w, err := s.StartUpload(t.Context(), "app")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(t.Context(), descOf(digest.SHA256, data)); err != nil {
				t.Fatal(err)
			}
		},
	}
	for dname, damage := range damages {
		for pname, put := range puts {
			t.Run(dname+"/"+pname, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				d := putBytes(t, s, "app", data).Digest
				file := filepath.Join(s.Dir(), "app", "blobs", "sha256", d.Encoded())
				if err := os.WriteFile(file, damage(data), 0o644); err != nil {
					t.Fatal(err)
				}
				put(t, s)
				if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, data) {
					t.Fatalf("blob file after a put of the right bytes: %d bytes, %v; want the %d right ones", len(got), err, len(data))
				}
				rc, _, err := s.GetBlob(t.Context(), "app", d)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				if _, err := io.Copy(io.Discard, rc); err != nil {
					t.Errorf("reading the repaired blob: %v", err)
				}
			})
		}
	}
}

// TestPutRepairsCorruptManifest damages the blob file of a manifest, then
// puts the manifest again: the file is whole again.
func TestPutRepairsCorruptManifest(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	img := newImage(t, 1, nil)
	d := push(t, s, "app", img, "1.0").Digest
	file := filepath.Join(s.Dir(), "app", "blobs", "sha256", d.Encoded())
	if err := os.WriteFile(file, img.Raw()[:10], 0o644); err != nil {
		t.Fatal(err)
	}
	push(t, s, "app", img, "1.0")
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, img.Raw()) {
		t.Fatalf("manifest file after a put of the right bytes = %q, %v", got, err)
	}
}

// TestCrashTempFilesReclaimed leaves temporary files as a crash would, some
// old and some recent, and opens a Store: the old ones are removed, the
// recent ones, which may be another Store's work, are kept.
func TestCrashTempFilesReclaimed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := []string{
		"app/.regkit-tmp/blob-0123",
		"app/.regkit-tmp/upload-" + randomHex(16),
		"team/app/.regkit-tmp/index.json-4567",
	}
	recent := []string{"team/app/.regkit-tmp/manifest-89ab"}
	long := time.Now().Add(-48 * time.Hour)
	for _, p := range slices.Concat(old, recent) {
		ocilayout.WriteFile(t, dir, p, []byte("left by a crash"))
	}
	for _, p := range old {
		if err := os.Chtimes(filepath.Join(dir, p), long, long); err != nil {
			t.Fatal(err)
		}
	}
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := tempFiles(t, dir); !slices.Equal(got, []string{"team/app/.regkit-tmp", recent[0]}) {
		t.Errorf("temporary files after NewStore: %q, want only %q", got, recent)
	}
}

// TestResumeExpiredFromDisk checks that a session file another Store left
// is not taken up once it has been idle past the expiry, however long this
// Store has been open, while a younger one is.
func TestResumeExpiredFromDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := &clock{now: time.Now()}
	s, err := ocilayout.NewStore(dir, ocilayout.WithUploadExpiry(time.Hour), ocilayout.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stale, fresh := randomHex(16), randomHex(16)
	for _, id := range []string{stale, fresh} { // left by another Store after this one opened
		ocilayout.WriteFile(t, dir, "app/.regkit-tmp/upload-"+id, []byte("partial"))
	}
	long := clk.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "app/.regkit-tmp/upload-"+stale), long, long); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResumeUpload(t.Context(), "app", stale); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("ResumeUpload(idle 2h, expiry 1h) = %v, want ErrBlobUploadUnknown", err)
	}
	if w, err := s.ResumeUpload(t.Context(), "app", fresh); err != nil || w.Size() != 7 {
		t.Errorf("ResumeUpload(fresh) = %v, %v; want the 7 bytes it holds", w, err)
	}
	if got := tempFiles(t, dir); slices.ContainsFunc(got, func(p string) bool { return strings.HasSuffix(p, stale) }) {
		t.Errorf("the expired session's file is still there: %q", got)
	}
}
