package layer

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultGzipLevel is the gzip level layers are compressed with unless
// [WithGzipLevel] says otherwise: [gzip.DefaultCompression] (level 6).
const DefaultGzipLevel = gzip.DefaultCompression

// Media types of the layers this package builds.
const (
	// MediaTypeDockerGzip is the Docker media type of a gzip layer, used
	// with [WithDockerMediaType].
	MediaTypeDockerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	// MediaTypeDockerTar is the Docker media type of an uncompressed layer.
	MediaTypeDockerTar = "application/vnd.docker.image.rootfs.diff.tar"
)

// Layer is a recipe for a layer: where its files come from and how they
// are archived. Nothing is read until [Layer.Encode] (or
// [Layer.Spool], or repository.PushLayer) writes it. A Layer made by
// [FromDir], [FromFS] or [FromFiles] can be encoded again and gives the
// same bytes each time; one made by [FromTar] reads its stream, so it can
// be encoded once.
//
// A Layer is reproducible: entries come in a fixed order, every entry has
// the modification time [WithModTime] gives (the Unix epoch by default),
// no access or change times, no user or group names, and owner 0:0 unless
// the input names owners ([File.UID], the entries of a tar) or
// [WithHostOwners] is given. Modes are the input's own: for [FromDir] and
// [FromFS] the permission bits on disk, which depend on the umask of
// whoever checked the files out, unless [WithNormalModes] is given. Headers are written in the PAX format
// (USTAR headers, with PAX records only where a field needs them).
type Layer struct {
	// entries writes the layer's entries to tw, in order.
	entries func(ctx context.Context, tw *tar.Writer, o *options) error
	// once is set for a source that can be read only once.
	once bool
	used bool
	o    options
}

// Info is what encoding a layer learns: the descriptor of its compressed
// bytes (media type, digest, size) and its diff_id, the digest of its
// uncompressed tar, which an image config lists in rootfs.diff_ids.
type Info struct {
	// Descriptor describes the layer's bytes as they are stored.
	Descriptor ocispec.Descriptor
	// DiffID is the sha256 digest of the layer's uncompressed tar.
	DiffID digest.Digest
}

// Option changes how a layer is built.
type Option func(*options)

type options struct {
	mtime       time.Time
	compression Compression
	level       int
	docker      bool
	hostOwners  bool
	normalModes bool
}

func newOptions(opts []Option) options {
	o := options{mtime: time.Unix(0, 0), compression: Gzip, level: DefaultGzipLevel}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithModTime sets the modification time of every entry (truncated to the
// second), in place of the Unix epoch: pass the time of the commit a
// build comes from, as SOURCE_DATE_EPOCH does.
func WithModTime(t time.Time) Option {
	return func(o *options) { o.mtime = t.Truncate(time.Second) }
}

// WithCompression sets how the layer is compressed: [Gzip] (the default),
// [Zstd] (at the zstd library's default level) or [Uncompressed].
func WithCompression(c Compression) Option {
	return func(o *options) { o.compression = c }
}

// WithGzipLevel sets the gzip level (see [compress/gzip]) in place of
// [DefaultGzipLevel].
func WithGzipLevel(level int) Option {
	return func(o *options) { o.level = level }
}

// WithDockerMediaType gives the layer a Docker media type
// ([MediaTypeDockerGzip] or [MediaTypeDockerTar]), for images with a Docker
// manifest, in place of the OCI one.
func WithDockerMediaType() Option {
	return func(o *options) { o.docker = true }
}

// WithHostOwners keeps the numeric owner and group a file has on disk, for
// [FromDir], and for [FromFS] when a file's FileInfo.Sys is a
// *syscall.Stat_t. By default they are 0:0, so that a layer does not
// depend on who built it. User and group names are never stored.
func WithHostOwners() Option {
	return func(o *options) { o.hostOwners = true }
}

// WithNormalModes gives the entries of [FromDir] and [FromFS] fixed modes
// in place of the permission bits they have on disk, as ko does: 0755 for
// a directory and for a regular file with any execute bit, 0644 for any
// other regular file, 0777 for a symbolic link; setuid, setgid and sticky
// are dropped. Without it the same checkout gives different layers on
// machines whose umask differs (0644 under umask 022, 0664 under 002).
// [FromFiles] and [FromTar] keep the modes they are given.
func WithNormalModes() Option {
	return func(o *options) { o.normalModes = true }
}

// MediaType returns the media type of the layer's bytes: by default
// [ocispec.MediaTypeImageLayerGzip], [ocispec.MediaTypeImageLayerZstd] for
// zstd, or [ocispec.MediaTypeImageLayer] when uncompressed; with
// [WithDockerMediaType] the Docker ones (Docker has none for zstd).
func (l *Layer) MediaType() string {
	switch {
	case l.o.compression == Uncompressed && l.o.docker:
		return MediaTypeDockerTar
	case l.o.compression == Uncompressed:
		return ocispec.MediaTypeImageLayer
	case l.o.compression == Zstd:
		return ocispec.MediaTypeImageLayerZstd
	case l.o.docker:
		return MediaTypeDockerGzip
	}
	return ocispec.MediaTypeImageLayerGzip
}

// errUsed is returned by a second Encode of a layer read from a stream.
var errUsed = errors.New("layer from a tar stream: the stream was already read")

// Encode writes the layer's bytes to w, reading its input once, and
// returns their descriptor and the layer's diff_id, both computed on the
// way: nothing is held in memory beyond a few buffers, whatever the size
// of the layer. An error from the input, or from w, stops it; w then holds
// part of a layer.
func (l *Layer) Encode(ctx context.Context, w io.Writer) (Info, error) {
	if l.once {
		if l.used {
			return Info{}, errUsed
		}
		l.used = true
	}
	out := &hashCounter{h: digest.SHA256.Hash(), w: w}
	buf := bufio.NewWriterSize(out, 64<<10)
	diff := digest.SHA256.Hash()
	var zw io.WriteCloser
	var err error
	switch l.o.compression {
	case Gzip:
		zw, err = gzip.NewWriterLevel(buf, l.o.level)
	case Zstd:
		zw, err = newZstdWriter(buf)
	case Uncompressed:
	default:
		err = fmt.Errorf("unknown compression %d", l.o.compression)
	}
	if err != nil {
		return Info{}, fmt.Errorf("build layer: %w", err)
	}
	tarOut := io.MultiWriter(diff, buf)
	if zw != nil {
		tarOut = io.MultiWriter(diff, zw)
	}
	tw := tar.NewWriter(tarOut)
	if err := l.entries(ctx, tw, &l.o); err != nil {
		return Info{}, fmt.Errorf("build layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return Info{}, fmt.Errorf("build layer: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return Info{}, fmt.Errorf("build layer: %w", err)
		}
	}
	if err := buf.Flush(); err != nil {
		return Info{}, fmt.Errorf("build layer: %w", err)
	}
	return Info{
		Descriptor: ocispec.Descriptor{
			MediaType: l.MediaType(),
			Digest:    digest.NewDigest(digest.SHA256, out.h),
			Size:      out.n,
		},
		DiffID: digest.NewDigest(digest.SHA256, diff),
	}, nil
}

// hashCounter hashes and counts what it passes on to w.
type hashCounter struct {
	h hash.Hash
	w io.Writer
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}
