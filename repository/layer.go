package repository

import (
	"bytes"
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/internal/par"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// layerChunk is how many bytes of a layer PushLayer holds in memory: a
// layer that fits is uploaded as a blob of known digest; a larger one
// streams, in chunks of this size.
const layerChunk = 8 << 20

// PushLayer builds l and uploads it in the same pass: each file of its
// input is read once, and the layer is never held whole, in memory or on
// disk. It returns the layer's descriptor and diff_id, for the image's
// manifest and config.
//
// A layer of up to 8 MiB compressed is held in memory and uploaded as
// [Repository.PushBlob] does, with its retries and progress, and not at all
// when the repository has it. A larger one goes in an upload session of
// unknown size ([transport.Uploader]), in chunks of 8 MiB, which the
// session retries one at a time; the session is committed under the digest
// computed on the way, and cancelled if building or uploading fails. Its
// progress events (see [progress.With]) are BlobStarted, with a
// descriptor holding only the media type, BlobBytes as chunks are sent,
// and BlobDone with the whole descriptor.
func (r *Repository) PushLayer(ctx context.Context, l *layer.Layer) (layer.Info, error) {
	obs, ctx := progress.Take(ctx)
	if r.err != nil {
		return layer.Info{}, r.err
	}
	ctx = r.pushing(ctx, nil)
	w := &layerWriter{ctx: ctx, r: r, obs: obs, mediaType: l.MediaType()}
	info, err := l.Encode(ctx, w)
	if err == nil {
		err = w.finish(info.Descriptor)
	}
	if w.release != nil {
		w.release()
	}
	if err != nil {
		if w.bw != nil {
			w.bw.Cancel(context.WithoutCancel(ctx))
		}
		return layer.Info{}, fmt.Errorf("push layer to %s: %w", r.name, err)
	}
	return info, nil
}

// layerWriter holds a layer's first chunk; from the second on, it sends
// each chunk to an upload session it opens.
type layerWriter struct {
	ctx       context.Context
	r         *Repository
	obs       progress.Observer
	mediaType string
	buf       []byte
	bw        transport.BlobWriter
	release   func()
	sent      int64
}

func (w *layerWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, layerChunk)
		}
		k := min(len(p), layerChunk-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == layerChunk {
			if err := w.send(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// send sends the chunk held, opening the session first if need be.
func (w *layerWriter) send() error {
	if w.bw == nil {
		release, err := par.Acquire(w.ctx, w.r.t)
		if err != nil {
			return err
		}
		w.release = release
		if w.bw, err = w.r.t.StartUpload(w.ctx, w.r.name); err != nil {
			return err
		}
		w.obs.Report(progress.Event{Kind: progress.BlobStarted, Repository: w.r.name,
			Descriptor: ocispec.Descriptor{MediaType: w.mediaType}})
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		return err
	}
	w.sent += int64(len(w.buf))
	w.buf = w.buf[:0]
	w.obs.Report(progress.Event{Kind: progress.BlobBytes, Repository: w.r.name,
		Descriptor: ocispec.Descriptor{MediaType: w.mediaType}, Done: w.sent})
	return nil
}

// finish uploads what is held: the whole layer as a blob when no session
// was needed, else the last chunk, and commits the session as desc.
func (w *layerWriter) finish(desc ocispec.Descriptor) error {
	if w.bw == nil {
		data := w.buf
		return w.r.pushBlob(w.ctx, w.obs, image.NewBlob(desc, func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}))
	}
	if len(w.buf) > 0 {
		if err := w.send(); err != nil {
			return err
		}
	}
	if err := w.bw.Commit(w.ctx, desc); err != nil {
		return err
	}
	w.bw = nil
	w.obs.Report(progress.Event{Kind: progress.BlobDone, Repository: w.r.name, Descriptor: desc, Done: desc.Size})
	return nil
}
