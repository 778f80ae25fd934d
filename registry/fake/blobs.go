package fake

import (
	"context"
	_ "crypto/sha256" // digest.SHA256
	_ "crypto/sha512" // digest.SHA384, digest.SHA512
	"fmt"
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// StatBlob returns the digest and size of the blob d of repo. It fails with
// NAME_UNKNOWN for an unknown repository and BLOB_UNKNOWN when repo does not
// hold the blob, even if another repository does.
func (s *Store) StatBlob(ctx context.Context, repo string, d digest.Digest) (ocispec.Descriptor, error) {
	_, desc, err := s.lookupBlob(ctx, repo, d, false)
	return desc, err
}

// GetBlob opens the blob d of repo. The reader implements [io.ReadSeekCloser]
// and [io.WriterTo], and reads the stored bytes without copying them (a
// blob kept in a file, through one reused buffer); it stays valid if the
// blob is deleted meanwhile. Close it: until then it holds the blob's
// memory, which a forgotten reader releases only once garbage collected.
// Errors are those of [Store.StatBlob].
func (s *Store) GetBlob(ctx context.Context, repo string, d digest.Digest) (io.ReadCloser, ocispec.Descriptor, error) {
	data, desc, err := s.lookupBlob(ctx, repo, d, true)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return newBlobReader(data), desc, nil
}

// lookupBlob returns the content and descriptor of the blob d of repo,
// held for a reader when hold is set.
func (s *Store) lookupBlob(ctx context.Context, repo string, d digest.Digest, hold bool) (*content, ocispec.Descriptor, error) {
	if err := backend.Begin(ctx, repo); err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	d, err := spec.CheckDigest(string(d))
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.repoErr(repo)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	if _, ok := r.blobs[d]; !ok {
		return nil, ocispec.Descriptor{}, backend.BlobUnknown(repo, d)
	}
	data := s.blobs[d].data
	if hold {
		data.hold()
	}
	return data, ocispec.Descriptor{Digest: d, Size: data.size}, nil
}

// PutBlob stores the bytes of r in repo as the blob desc describes,
// hashing them with desc.Digest's algorithm (sha256, sha384 or sha512) as
// they stream in. When desc.Size is positive it stops reading as soon as r
// gives more bytes than that. The blob becomes visible only if both match;
// otherwise PutBlob fails with SIZE_INVALID or DIGEST_INVALID and stores
// nothing. A desc.Size of 0 or less means the size is unknown (the digest is
// still checked). When repo already holds the blob, PutBlob returns nil
// without reading r. A blob the store holds in other repositories only is
// read and verified (holding its digest is no proof of having its bytes),
// then shared, not stored twice. PutBlob checks ctx between reads, and
// returns the error of r as it is, wrapped.
func (s *Store) PutBlob(ctx context.Context, repo string, desc ocispec.Descriptor, r io.Reader) error {
	if err := backend.Begin(ctx, repo); err != nil {
		return err
	}
	d, err := spec.CheckDigest(string(desc.Digest))
	if err != nil {
		return err
	}
	if desc.Size < 0 {
		desc.Size = 0 // unknown
	}

	s.mu.RLock()
	if r := s.repos[repo]; r != nil {
		if _, ok := r.blobs[d]; ok {
			s.mu.RUnlock()
			return nil // the repository has it: nothing to read
		}
	}
	var existing *content
	if e := s.blobs[d]; e != nil {
		existing = e.data
		existing.hold() // for publish, should the blob be deleted meanwhile
	}
	s.mu.RUnlock()

	h := d.Algorithm().Hash()
	var staged *content
	if existing == nil {
		staged = &content{files: &s.files}
	}
	size, err := readBlob(ctx, r, h, staged, desc.Size)
	if err == nil {
		err = backend.Verify(d, desc.Size, digest.NewDigest(d.Algorithm(), h), size)
	} else {
		err = fmt.Errorf("put blob %s in repository %q: %w", d, repo, err)
	}
	if staged == nil {
		// The bytes are the ones already stored: share them. If the blob
		// was deleted meanwhile, publish restores the copy held here.
		staged = existing
	} else {
		staged.seal()
	}
	if err != nil {
		staged.drop()
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publish(repo, d, staged)
	return nil
}

// readBlob reads r to its end, hashing into h and, unless into is nil,
// storing into it. When want is positive it stops once more than want bytes
// came. It returns the number of bytes read. The bytes stored are hashed
// on a goroutine of their own while the next ones are read.
func readBlob(ctx context.Context, r io.Reader, h hash.Hash, into *content, want int64) (int64, error) {
	g := &putGate{ctx: ctx, r: r, want: want}
	if into != nil {
		_, err := into.fill(r, h, g)
		return g.size, err
	}
	scratch := make([]byte, 32<<10)
	for {
		expect, err := g.next()
		if err == io.EOF {
			return g.size, nil
		}
		if err != nil {
			return g.size, err
		}
		buf := scratch
		if expect > 0 && int64(len(buf)) > expect {
			buf = buf[:expect]
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		g.size += int64(n)
		if err == io.EOF {
			return g.size, nil
		}
		if err != nil {
			return g.size, err
		}
	}
}

// putGate is the gate of a put: it checks ctx between reads, and stops at
// want bytes (when positive), reading one more to tell a stream too long.
// The content is the put's own: there is no lock.
type putGate struct {
	ctx  context.Context
	r    io.Reader
	want int64
	size int64 // bytes read
}

func (g *putGate) Lock()   {}
func (g *putGate) Unlock() {}

func (g *putGate) next() (int64, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	if g.want <= 0 {
		return 0, nil
	}
	if g.size == g.want {
		// All the bytes declared came: one more means the stream is too
		// long, and verify says so.
		var one [1]byte
		n, err := io.ReadFull(g.r, one[:])
		g.size += int64(n)
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	return g.want - g.size, nil
}

func (g *putGate) admit(n int64) error {
	g.size += n
	return nil
}

func (g *putGate) unadmit(n int64) { g.size -= n }

// publish makes the verified content data the blob d of repository name,
// taking over the caller's hold of data. If the store already holds the
// blob, data is dropped and the stored copy is shared. The caller holds
// s.mu for writing.
func (s *Store) publish(name string, d digest.Digest, data *content) {
	e := s.blobs[d]
	if e == nil {
		e = &blobEntry{data: data}
		s.blobs[d] = e
	} else {
		data.drop()
	}
	s.link(name, d, e)
}

// link makes the blob e, under d, a blob of repository name. The caller
// holds s.mu for writing.
func (s *Store) link(name string, d digest.Digest, e *blobEntry) {
	r := s.createRepo(name)
	if _, ok := r.blobs[d]; !ok {
		r.blobs[d] = struct{}{}
		e.refs++
	}
}

// MountBlob makes the blob d of repository from a blob of repo too,
// creating repo if needed, without copying any byte. It fails with
// BLOB_UNKNOWN when from does not hold the blob or does not exist.
func (s *Store) MountBlob(ctx context.Context, repo, from string, d digest.Digest) error {
	if err := backend.Begin(ctx, repo); err != nil {
		return err
	}
	if err := spec.CheckName(from); err != nil {
		return err
	}
	d, err := spec.CheckDigest(string(d))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.repos[from]
	if src == nil {
		return transport.Errorf(transport.CodeBlobUnknown, "blob %s not found: repository %q does not exist", d, from)
	}
	if _, ok := src.blobs[d]; !ok {
		return backend.BlobUnknown(from, d)
	}
	s.link(repo, d, s.blobs[d])
	return nil
}

// DeleteBlob removes the blob d from repo. The store frees the bytes once
// no repository holds the blob. It fails with NAME_UNKNOWN for an unknown
// repository and BLOB_UNKNOWN when repo does not hold the blob. Manifests
// that reference the blob are left as they are, as registries do.
func (s *Store) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	if err := backend.Begin(ctx, repo); err != nil {
		return err
	}
	d, err := spec.CheckDigest(string(d))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoErr(repo)
	if err != nil {
		return err
	}
	if _, ok := r.blobs[d]; !ok {
		return backend.BlobUnknown(repo, d)
	}
	delete(r.blobs, d)
	e := s.blobs[d]
	if e.refs--; e.refs == 0 {
		delete(s.blobs, d)
		e.data.drop() // its file closes once its readers are closed too
	}
	return nil
}
