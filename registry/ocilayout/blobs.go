package ocilayout

import (
	"context"
	_ "crypto/sha256" // digest.SHA256
	_ "crypto/sha512" // digest.SHA384, digest.SHA512
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// StatBlob returns the digest and size of the blob d of repo: the file
// blobs/<algorithm>/<encoded> of its layout. Every file there is a blob,
// manifests included. It fails with NAME_UNKNOWN for an unknown repository,
// BLOB_UNKNOWN when there is no such file, and [ErrInvalidLayout] when it is
// not a regular file.
func (s *Store) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	d, err := s.blobArgs(ctx, repo, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	size, err := s.statBlob(repo, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{Digest: d, Size: size}, nil
}

// blobArgs checks the arguments of the blob reads and that repo exists.
func (s *Store) blobArgs(ctx context.Context, repo string, d digest.Digest) (digest.Digest, error) {
	if err := s.begin(ctx, repo); err != nil {
		return "", err
	}
	d, err := spec.CheckDigest(string(d))
	if err != nil {
		return "", err
	}
	return d, s.openRepo(repo)
}

// GetBlob opens the blob d of repo. Errors are those of [Store.StatBlob].
//
// The reader implements [io.ReadSeekCloser]. Read from start to end, it
// hashes what it reads and, if the file does not hash to its name, returns
// an error matching both [transport.ErrDigestInvalid] and
// [ErrInvalidLayout] instead of [io.EOF]: a corrupt or truncated blob file is
// reported, never served silently. After a Seek to anywhere but the start,
// what it reads is not checked.
func (s *Store) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	d, err := s.blobArgs(ctx, repo, d)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	p := s.blobPath(repo, d)
	f, err := s.root.Open(p)
	if isNotExist(err) {
		return nil, ocispec.Descriptor{}, backend.BlobUnknown(repo, d)
	} else if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = invalid(p, "not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, ocispec.Descriptor{}, err
	}
	r := &blobReader{f: f, path: p, want: d, h: d.Algorithm().Hash()}
	return r, ocispec.Descriptor{Digest: d, Size: fi.Size()}, nil
}

// blobReader reads a blob file, checking its digest when read through.
type blobReader struct {
	f    *os.File
	path string
	want digest.Digest
	h    hash.Hash // nil once a Seek made checking impossible
	off  int64
}

var _ io.ReadSeekCloser = (*blobReader)(nil)

// Read reads the next bytes of the blob.
func (r *blobReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.off += int64(n)
	if r.h != nil {
		r.h.Write(p[:n])
		if err == io.EOF {
			if got := digest.NewDigest(r.want.Algorithm(), r.h); got != r.want {
				return n, fmt.Errorf("%w: %w", ErrInvalidLayout, transport.Errorf(transport.CodeDigestInvalid,
					"blob file %s hashes to %s", r.path, got))
			}
		}
	}
	return n, err
}

// Seek sets the offset of the next Read, as [io.Seeker] says. Seeking to
// the start restarts the digest check; seeking elsewhere ends it.
func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	pos, err := r.f.Seek(offset, whence)
	if err != nil {
		return pos, err
	}
	switch {
	case pos == 0:
		r.h = r.want.Algorithm().Hash()
	case pos != r.off:
		r.h = nil
	}
	r.off = pos
	return pos, nil
}

// Close closes the file.
func (r *blobReader) Close() error { return r.f.Close() }

// PutBlob stores the bytes of r in repo as the blob desc describes,
// creating repo if needed. The bytes stream into a temporary file of the
// layout's .regkit-tmp directory while they are hashed with desc.Digest's
// algorithm (sha256, sha384 or sha512); when desc.Size is positive, reading
// stops as soon as r gives more than that. Only if digest and size match is
// the file synced and renamed into blobs/; otherwise PutBlob fails with
// DIGEST_INVALID or SIZE_INVALID, and the temporary file is removed, as it
// is when r fails (its error is wrapped) or ctx ends (checked between
// reads). A desc.Size of 0 or less means the size is unknown.
//
// When repo already holds the blob, PutBlob checks the file it has: its
// size against desc.Size, when known, and then its digest, by reading it
// whole (a local read, in place of receiving r). If the file is intact,
// PutBlob returns nil without reading r; if it is damaged, the bytes of r
// replace it, so putting the right bytes again repairs a blob.
func (s *Store) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	if err := s.begin(ctx, repo); err != nil {
		return err
	}
	d, err := spec.CheckDigest(string(desc.Digest))
	if err != nil {
		return err
	}
	if ok, err := s.intact(ctx, repo, d, desc.Size); ok || err != nil {
		return err
	}
	tmp, err := s.stage(ctx, repo, d, max(desc.Size, 0), r)
	if err != nil {
		return fmt.Errorf("put blob %s in repository %q: %w", d, repo, err)
	}
	return s.withLock(repo, func() error { return s.publishBlob(repo, tmp, d) })
}

// has reports whether repo, which need not exist, holds the blob d. It
// fails if repo or its blob file is broken.
func (s *Store) has(repo string, d digest.Digest) (bool, error) {
	if err := s.openRepo(repo); errors.Is(err, transport.ErrNameUnknown) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	_, err := s.statBlob(repo, d)
	if errors.Is(err, transport.ErrBlobUnknown) {
		return false, nil
	}
	return err == nil, err
}

// intact reports whether repo, which need not exist, holds the blob d in a
// file of size size (when positive) whose bytes hash to d. It fails, as
// [Store.has] does, if repo is broken; a blob file it cannot read whole is
// not intact, and the caller writes the blob again, which repairs it or
// fails.
func (s *Store) intact(ctx context.Context, repo string, d digest.Digest, size int64) (bool, error) {
	if have, err := s.has(repo, d); !have || err != nil {
		return false, err
	}
	f, err := s.root.Open(s.blobPath(repo, d))
	if err != nil {
		return false, nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || (size > 0 && fi.Size() != size) {
		return false, nil
	}
	h := d.Algorithm().Hash()
	n, err := copyHashing(ctx, io.Discard, f, h, 0)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return err == nil && n == fi.Size() && digest.NewDigest(d.Algorithm(), h) == d, nil
}

// stage streams r into a new temporary file of repo, checks that the bytes
// have digest d and, when size is positive, that size, and syncs the file.
// It returns the file's path, or removes it and fails.
func (s *Store) stage(ctx context.Context, repo string, d digest.Digest, size int64, r io.Reader) (string, error) {
	f, tmp, err := s.createTemp(repo, "blob")
	if err != nil {
		return "", err
	}
	h := d.Algorithm().Hash()
	n, err := copyHashing(ctx, f, r, h, size)
	if err == nil {
		err = backend.Verify(d, size, digest.NewDigest(d.Algorithm(), h), n)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.dropTemp(repo, tmp)
		return "", err
	}
	return tmp, nil
}

var bufPool = sync.Pool{New: func() any { return new([256 << 10]byte) }}

// copyHashing copies r to w and into h until r ends, checking ctx between
// reads. When want is positive it reads at most one byte more than want,
// enough for the caller to see that r is too long. It returns the number of
// bytes copied.
func copyHashing(ctx context.Context, w io.Writer, r io.Reader, h hash.Hash, want int64) (int64, error) {
	buf := bufPool.Get().(*[256 << 10]byte)
	defer bufPool.Put(buf)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		p := buf[:]
		if want > 0 && int64(len(p)) > want+1-n {
			p = p[:want+1-n]
		}
		m, err := r.Read(p)
		if m > 0 {
			h.Write(p[:m])
			if _, werr := w.Write(p[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
		}
		if err == io.EOF || (want > 0 && n > want) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// MountBlob makes the blob d of repository from a blob of repo too,
// creating repo if needed: a hard link between the two files, or, where the
// file system cannot link (or the blob file is a symbolic link), a copy,
// verified as [Store.PutBlob] verifies. It fails with BLOB_UNKNOWN when
// from does not hold the blob or does not exist.
func (s *Store) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	if err := s.begin(ctx, repo); err != nil {
		return err
	}
	if err := checkRepo(from); err != nil {
		return err
	}
	d, err := spec.CheckDigest(string(d))
	if err != nil {
		return err
	}
	if err := s.check(from); err != nil { // not the repository of a Store of one layout
		return transport.Errorf(transport.CodeBlobUnknown, "blob %s not found: %v", d, err)
	}
	if err := s.openRepo(from); errors.Is(err, transport.ErrNameUnknown) {
		return transport.Errorf(transport.CodeBlobUnknown, "blob %s not found: repository %q does not exist", d, from)
	} else if err != nil {
		return err
	}
	if _, err := s.statBlob(from, d); err != nil {
		return err
	}
	if have, err := s.has(repo, d); have || err != nil {
		return err // repo has it (from == repo included), or is broken
	}
	linked, err := s.link(repo, from, d)
	if err != nil || linked {
		return err
	}
	tmp, err := s.copyBlob(ctx, repo, from, d)
	if err != nil {
		return fmt.Errorf("mount blob %s from repository %q: %w", d, from, err)
	}
	return s.withLock(repo, func() error { return s.publishBlob(repo, tmp, d) })
}

// link hard-links the blob d of from into repo. It reports false, and no
// error, when the caller should copy instead.
func (s *Store) link(repo, from string, d digest.Digest) (bool, error) {
	src, dst := s.blobPath(from, d), s.blobPath(repo, d)
	if fi, err := s.root.Lstat(src); err != nil || !fi.Mode().IsRegular() {
		return false, nil // a symbolic link, or gone: copying says which
	}
	unlock, err := s.lock(repo)
	if err != nil {
		return false, err
	}
	defer unlock()
	err = s.ensureRepo(repo)
	if err == nil {
		err = s.mkdirAll(filepath.Dir(dst))
	}
	if err != nil {
		return false, err
	}
	switch err := s.root.Link(src, dst); {
	case errors.Is(err, fs.ErrExist):
		return true, nil
	case err != nil:
		return false, nil
	}
	return true, s.syncDir(filepath.Dir(dst))
}

// copyBlob copies the blob d of from into a temporary file of repo,
// checking its digest, and returns the file's path.
func (s *Store) copyBlob(ctx context.Context, repo, from string, d digest.Digest) (string, error) {
	f, err := s.root.Open(s.blobPath(from, d))
	if isNotExist(err) {
		return "", backend.BlobUnknown(from, d)
	} else if err != nil {
		return "", err
	}
	defer f.Close()
	tmp, err := s.stage(ctx, repo, d, 0, f)
	if errors.Is(err, transport.ErrDigestInvalid) {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalidLayout, s.blobPath(from, d), err)
	}
	return tmp, err
}

// DeleteBlob removes the blob file d from repo. It fails with NAME_UNKNOWN
// for an unknown repository and BLOB_UNKNOWN when repo does not hold the
// blob. A manifest that index.json lists is not removed: that fails with
// UNSUPPORTED, since it would leave index.json naming a missing file; use
// [Store.DeleteManifest]. Other manifests that reference the blob are left
// as they are, as registries do.
func (s *Store) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	if err := s.begin(ctx, repo); err != nil {
		return err
	}
	d, err := spec.CheckDigest(string(d))
	if err != nil {
		return err
	}
	if err := s.flush(s.batchOf(ctx, repo)); err != nil {
		return err
	}
	unlock, err := s.lock(repo)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.openRepo(repo); err != nil {
		return err
	}
	if _, err := s.statBlob(repo, d); err != nil {
		return err
	}
	ix, err := s.readIndex(repo)
	if err != nil {
		return err
	}
	if _, ok := ix.findDigest(d); ok {
		return transport.Errorf(transport.CodeUnsupported,
			"blob %s is a manifest that index.json of repository %q lists: delete it as a manifest", d, repo)
	}
	if err := s.root.Remove(s.blobPath(repo, d)); err != nil {
		return fmt.Errorf("repository %q: %w", repo, err)
	}
	return s.syncDir(filepath.Dir(s.blobPath(repo, d)))
}
