package ocilayout_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

// failingReader gives n bytes of data, then fails, or calls onHalf first.
type failingReader struct {
	data   []byte
	n      int
	err    error
	onHalf func()
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if r.onHalf != nil {
			r.onHalf()
			r.onHalf = nil
			return 0, nil
		}
		return 0, r.err
	}
	m := copy(p[:min(len(p), r.n)], r.data)
	r.data, r.n = r.data[m:], r.n-m
	return m, nil
}

var errBroken = errors.New("broken reader")

// TestPutBlobFailures checks that an upload failing half-way leaves nothing
// visible and no temporary file behind.
func TestPutBlobFailures(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, several reads
	sum := digest.FromBytes(data)
	tests := []struct {
		name    string
		desc    ocispec.Descriptor
		reader  func(cancel context.CancelFunc) io.Reader
		wantErr error
	}{
		{
			name: "reader fails half-way",
			desc: ocispec.Descriptor{Digest: sum, Size: int64(len(data))},
			reader: func(context.CancelFunc) io.Reader {
				return &failingReader{data: data, n: len(data) / 2, err: errBroken}
			},
			wantErr: errBroken,
		},
		{
			name: "context cancelled half-way",
			desc: ocispec.Descriptor{Digest: sum, Size: int64(len(data))},
			reader: func(cancel context.CancelFunc) io.Reader {
				return &failingReader{data: data, n: len(data) / 2, onHalf: cancel, err: io.EOF}
			},
			wantErr: context.Canceled,
		},
		{
			name:    "wrong digest",
			desc:    ocispec.Descriptor{Digest: digest.FromString("other"), Size: int64(len(data))},
			reader:  func(context.CancelFunc) io.Reader { return bytes.NewReader(data) },
			wantErr: transport.ErrDigestInvalid,
		},
		{
			name:    "wrong sha512 digest",
			desc:    ocispec.Descriptor{Digest: digest.SHA512.FromString("other")},
			reader:  func(context.CancelFunc) io.Reader { return bytes.NewReader(data) },
			wantErr: transport.ErrDigestInvalid,
		},
		{
			name:    "too short",
			desc:    ocispec.Descriptor{Digest: sum, Size: int64(len(data)) + 1},
			reader:  func(context.CancelFunc) io.Reader { return bytes.NewReader(data) },
			wantErr: transport.ErrSizeInvalid,
		},
		{
			name:    "too long",
			desc:    ocispec.Descriptor{Digest: sum, Size: int64(len(data)) - 1},
			reader:  func(context.CancelFunc) io.Reader { return bytes.NewReader(data) },
			wantErr: transport.ErrSizeInvalid,
		},
		{
			name:    "malformed digest",
			desc:    ocispec.Descriptor{Digest: "sha256:abc"},
			reader:  func(context.CancelFunc) io.Reader { return bytes.NewReader(data) },
			wantErr: transport.ErrDigestInvalid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := ocilayout.NewStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			putBytes(t, s, "app", []byte("already there"))
			before := files(t, dir)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err = s.PutBlob(ctx, "app", tc.desc, tc.reader(cancel))
			checkErr(t, "PutBlob", err, tc.wantErr)
			for _, d := range []digest.Digest{sum, tc.desc.Digest} {
				if _, err := s.StatBlob(t.Context(), "app", d); !errors.Is(err, transport.ErrBlobUnknown) && !errors.Is(err, transport.ErrDigestInvalid) {
					t.Errorf("StatBlob(%s) after a failed put = %v, want ErrBlobUnknown", d, err)
				}
			}
			if after := files(t, dir); !slices.Equal(after, before) {
				t.Errorf("files after a failed put = %v, want %v", after, before)
			}
			if tmp := tempFiles(t, dir); len(tmp) != 0 {
				t.Errorf("temporary files left: %v", tmp)
			}
		})
	}
}

func TestPutBlobAlgorithms(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	data := []byte("the same bytes under three digests")
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA384, digest.SHA512} {
		desc := ocispec.Descriptor{Digest: alg.FromBytes(data)} // size unknown
		if err := s.PutBlob(t.Context(), "algs", desc, bytes.NewReader(data)); err != nil {
			t.Fatalf("PutBlob(%s) = %v", alg, err)
		}
		rc, got, err := s.GetBlob(t.Context(), "algs", desc.Digest)
		if err != nil || got.Size != int64(len(data)) {
			t.Fatalf("GetBlob(%s) = %+v, %v", alg, got, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("read %s = %q, %v", alg, b, err)
		}
		p := filepath.Join(s.Dir(), "algs", "blobs", string(alg), desc.Digest.Encoded())
		if _, err := os.Stat(p); err != nil {
			t.Errorf("blob file %s: %v", p, err)
		}
	}
	// A second put reads nothing.
	desc := ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := s.PutBlob(t.Context(), "algs", desc, &failingReader{err: errBroken}); err != nil {
		t.Errorf("PutBlob(existing) = %v, want nil without reading", err)
	}
}

// TestGetBlobCorrupt checks that a blob file whose bytes do not match its
// name is reported when read through, and what Seek does to the check.
func TestGetBlobCorrupt(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	data := []byte("the genuine content of the blob")
	desc := putBytes(t, s, "app", data)
	p := filepath.Join(s.Dir(), "app", "blobs", "sha256", desc.Digest.Encoded())
	tests := []struct {
		name    string
		content []byte
	}{
		{name: "flipped byte", content: append([]byte("The"), data[3:]...)},
		{name: "truncated", content: data[:10]},
		{name: "longer", content: append(slices.Clone(data), '!')},
		{name: "empty", content: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			rc, _, err := s.GetBlob(t.Context(), "app", desc.Digest)
			if err != nil {
				t.Fatalf("GetBlob = %v", err)
			}
			defer rc.Close()
			_, err = io.ReadAll(rc)
			if !errors.Is(err, transport.ErrDigestInvalid) || !errors.Is(err, ocilayout.ErrInvalidLayout) {
				t.Fatalf("reading a corrupt blob = %v, want ErrDigestInvalid and ErrInvalidLayout", err)
			}
		})
	}
	t.Run("seek", func(t *testing.T) {
		if err := os.WriteFile(p, append([]byte("The"), data[3:]...), 0o644); err != nil {
			t.Fatal(err)
		}
		rc, _, err := s.GetBlob(t.Context(), "app", desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		rs := rc.(io.ReadSeeker)
		if _, err := rs.Seek(4, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(rs); err != nil || string(b) != string(data[4:]) {
			t.Errorf("ranged read = %q, %v; want the rest, unchecked", b, err)
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(rs); !errors.Is(err, transport.ErrDigestInvalid) {
			t.Errorf("read from the start again = %v, want ErrDigestInvalid", err)
		}
		if _, err := rs.Seek(-1, io.SeekStart); err == nil {
			t.Error("Seek(-1) succeeded")
		}
	})
	t.Run("intact", func(t *testing.T) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rc, _, err := s.GetBlob(t.Context(), "app", desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		rs := rc.(io.ReadSeeker)
		if pos, err := rs.Seek(0, io.SeekCurrent); err != nil || pos != 0 {
			t.Fatalf("Seek(0, current) = %d, %v", pos, err)
		}
		if b, err := io.ReadAll(rs); err != nil || !bytes.Equal(b, data) {
			t.Errorf("read = %q, %v", b, err)
		}
	})
}

func TestBlobFileNotRegular(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	putBytes(t, s, "app", []byte("x"))
	d := digest.FromString("a directory")
	if err := os.MkdirAll(filepath.Join(s.Dir(), "app", "blobs", "sha256", d.Encoded()), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StatBlob(t.Context(), "app", d); !errors.Is(err, ocilayout.ErrInvalidLayout) {
		t.Errorf("StatBlob(directory) = %v, want ErrInvalidLayout", err)
	}
	if _, _, err := s.GetBlob(t.Context(), "app", d); !errors.Is(err, ocilayout.ErrInvalidLayout) {
		t.Errorf("GetBlob(directory) = %v, want ErrInvalidLayout", err)
	}
	if _, _, err := s.GetBlob(t.Context(), "app", digest.FromString("absent")); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Errorf("GetBlob(absent) = %v, want ErrBlobUnknown", err)
	}
	if _, _, err := s.GetBlob(t.Context(), "nothing", d); !errors.Is(err, transport.ErrNameUnknown) {
		t.Errorf("GetBlob(unknown repository) = %v, want ErrNameUnknown", err)
	}
}

// TestCrashLeftovers simulates crashes: what a crash can leave behind is
// never visible, and the next write completes the repository.
func TestCrashLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := []byte("a blob whose rename never happened")
	d := digest.FromBytes(data)
	// A blob staged but not renamed, an index.json being replaced, and a
	// repository whose oci-layout was never written.
	ocilayout.WriteFile(t, dir, "app/.regkit-tmp/blob-0123", data)
	ocilayout.WriteFile(t, dir, "app/.regkit-tmp/index.json-4567", []byte(`{"schemaVer`))
	ocilayout.WriteFile(t, dir, "app/index.json", []byte(`{"schemaVersion":2,"manifests":[]}`))
	s, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if _, err := s.StatBlob(ctx, "app", d); !errors.Is(err, transport.ErrNameUnknown) {
		t.Errorf("StatBlob in a half-made repository = %v, want ErrNameUnknown", err)
	}
	if page, err := s.ListRepositories(ctx, transport.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Errorf("ListRepositories = %v, %v; want none", page.Items, err)
	}
	putBytes(t, s, "app", []byte("the next write"))
	if _, err := s.StatBlob(ctx, "app", d); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Errorf("StatBlob(staged blob) = %v, want ErrBlobUnknown", err)
	}
	if page, err := s.ListRepositories(ctx, transport.PageRequest{}); err != nil || !slices.Equal(page.Items, []string{"app"}) {
		t.Errorf("ListRepositories = %v, %v; want [app]", page.Items, err)
	}
	if page, err := s.ListTags(ctx, "app", transport.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Errorf("ListTags = %v, %v; want none", page.Items, err)
	}
}

func TestMountBlob(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	data := []byte("a layer shared by two repositories")
	desc := putBytes(t, s, "src", data)
	srcPath := filepath.Join(s.Dir(), "src", "blobs", "sha256", desc.Digest.Encoded())

	if err := s.MountBlob(ctx, "dst", "src", desc.Digest); err != nil {
		t.Fatalf("MountBlob = %v", err)
	}
	a, _ := os.Stat(srcPath)
	b, err := os.Stat(filepath.Join(s.Dir(), "dst", "blobs", "sha256", desc.Digest.Encoded()))
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("mounted blob is not a hard link of the source: %v", err)
	}
	if err := s.MountBlob(ctx, "dst", "src", desc.Digest); err != nil {
		t.Errorf("MountBlob again = %v", err)
	}
	if err := s.MountBlob(ctx, "src", "src", desc.Digest); err != nil {
		t.Errorf("MountBlob onto itself = %v", err)
	}

	// A source that is a symbolic link is copied.
	if err := os.Rename(srcPath, srcPath+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(desc.Digest.Encoded()+".real", srcPath); err != nil {
		t.Skipf("cannot make symbolic links: %v", err)
	}
	if err := s.MountBlob(ctx, "copy", "src", desc.Digest); err != nil {
		t.Fatalf("MountBlob(symbolic link) = %v", err)
	}
	fi, err := os.Lstat(filepath.Join(s.Dir(), "copy", "blobs", "sha256", desc.Digest.Encoded()))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != desc.Size {
		t.Errorf("copied blob = %v, %v; want a regular file of %d bytes", fi, err, desc.Size)
	}
	// A corrupt source is not copied.
	if err := os.WriteFile(srcPath+".real", []byte("corrupt"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.MountBlob(ctx, "copy2", "src", desc.Digest); !errors.Is(err, ocilayout.ErrInvalidLayout) {
		t.Errorf("MountBlob(corrupt) = %v, want ErrInvalidLayout", err)
	}
	if _, err := s.StatBlob(ctx, "copy2", desc.Digest); err == nil {
		t.Error("a corrupt mounted blob is visible")
	}
	if tmp := tempFiles(t, s.Dir()); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	tests := []struct {
		name, repo, from string
		d                digest.Digest
		wantErr          error
	}{
		{name: "unknown source repository", repo: "dst", from: "absent", d: desc.Digest, wantErr: transport.ErrBlobUnknown},
		{name: "unknown blob", repo: "dst", from: "src", d: digest.FromString("absent"), wantErr: transport.ErrBlobUnknown},
		{name: "bad source name", repo: "dst", from: "../src", d: desc.Digest, wantErr: transport.ErrNameInvalid},
		{name: "bad digest", repo: "dst", from: "src", d: "sha256:zz", wantErr: transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, "MountBlob", s.MountBlob(ctx, tc.repo, tc.from, tc.d), tc.wantErr)
		})
	}
}

func TestDeleteBlob(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	img := newImage(t, 1, nil)
	desc := push(t, s, "app", img, "1.0")
	layer := img.Layers()[0].Descriptor()

	tests := []struct {
		name    string
		repo    string
		d       digest.Digest
		wantErr error
	}{
		{name: "layer", repo: "app", d: layer.Digest},
		{name: "again", repo: "app", d: layer.Digest, wantErr: transport.ErrBlobUnknown},
		{name: "listed manifest", repo: "app", d: desc.Digest, wantErr: transport.ErrUnsupported},
		{name: "unknown repository", repo: "absent", d: layer.Digest, wantErr: transport.ErrNameUnknown},
		{name: "bad digest", repo: "app", d: "md5:abc", wantErr: transport.ErrDigestInvalid},
		{name: "bad name", repo: "App", d: layer.Digest, wantErr: transport.ErrNameInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, "DeleteBlob", s.DeleteBlob(ctx, tc.repo, tc.d), tc.wantErr)
		})
	}
	if _, err := s.StatBlob(ctx, "app", layer.Digest); !errors.Is(err, transport.ErrBlobUnknown) {
		t.Errorf("StatBlob(deleted) = %v", err)
	}
	if _, err := s.HeadManifest(ctx, "app", "1.0"); err != nil {
		t.Errorf("manifest after deleting its layer = %v, want it kept", err)
	}
}
