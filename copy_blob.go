package regkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/body"
	"github.com/regkit/regkit/internal/mount"
	"github.com/regkit/regkit/internal/par"
	"github.com/regkit/regkit/internal/verify"
	"github.com/regkit/regkit/repository/progress"
	"github.com/regkit/regkit/transport"
)

// addBlob plans the copy of blob d, once, unless registries do not
// distribute it (Windows foreign layers), which dst need not have.
func (c *copier) addBlob(d ocispec.Descriptor) {
	if c.blobSet[d.Digest] || nonDistributable(d.MediaType) {
		return
	}
	c.blobSet[d.Digest] = true
	c.blobs = append(c.blobs, d)
}

// nonDistributable reports whether mediaType is a layer that registries
// need not hold: a Docker foreign layer or an OCI non-distributable one.
func nonDistributable(mediaType string) bool {
	return mediaType == image.MediaTypeDockerForeignLayer ||
		strings.HasPrefix(mediaType, "application/vnd.oci.image.layer.nondistributable.")
}

// copyBlobs copies the planned blobs, opts.Concurrency at a time, and
// reports each.
func (c *copier) copyBlobs(ctx context.Context) error {
	items := make([]CopyItem, len(c.blobs))
	err := par.ForEach(ctx, c.opts.Concurrency, len(c.blobs), func(ctx context.Context, i int) error {
		release, err := par.Acquire(ctx, c.st, c.dt)
		if err != nil {
			return err
		}
		defer release()
		if c.known != nil {
			return c.copyKnownBlob(ctx, c.blobs[i], &items[i])
		}
		items[i], err = c.copyBlob(ctx, c.blobs[i])
		return err
	})
	if err != nil {
		return err
	}
	c.report.Blobs = items
	return nil
}

// copyBlob makes the blob d available in dst: in a dry run it only asks;
// on the same registry it mounts it; otherwise (or when the mount is
// refused) it streams it from src, verified, unless dst has it.
func (c *copier) copyBlob(ctx context.Context, d ocispec.Descriptor) (CopyItem, error) {
	item := CopyItem{Descriptor: d}
	if c.opts.DryRun {
		_, err := c.dt.StatBlob(ctx, c.dst.Name(), d.Digest)
		switch {
		case err == nil:
			item.Action = Skipped
		case !errors.Is(err, transport.ErrNotFound):
			return item, fmt.Errorf("check blob %s in %s: %w", d.Digest, c.dst.Name(), err)
		case c.same:
			item.Action = WouldMount
		default:
			item.Action, item.Bytes = WouldCopy, d.Size
		}
		return item, nil
	}
	meter := verify.NewMeter(c.obs, c.dst.Name(), d)
	if c.same {
		err := c.dt.MountBlob(ctx, c.dst.Name(), c.src.Name(), d.Digest)
		if err == nil {
			item.Action = Mounted
			meter.Report(progress.BlobMounted)
			return item, nil
		}
		if !mount.Refused(err) {
			return item, fmt.Errorf("mount blob %s from %s: %w", d.Digest, c.src.Name(), err)
		}
	}
	// A transient failure (a dropped connection, a 503) on either side
	// starts the blob again, from a fresh read of the source, within the
	// destination's retry policy. So does, once, with a retry policy of its
	// own, a blob that either side found corrupt (DIGEST_INVALID,
	// SIZE_INVALID): a byte may have been damaged on the way.
	var r *body.Lazy
	var reported int64 // bytes reported to the meter by any attempt
	opened := false    // whether any attempt read the source
	err := verify.AgainIfCorrupt(func(bool) error {
		return transport.Retry(ctx, c.dt, func() error {
			r = c.sourceBody(ctx, d, meter, &reported)
			err := c.dt.PutBlob(ctx, c.dst.Name(), d, r)
			r.Close() // waits for a Read the transport may still have under way
			opened = opened || r.Opened()
			if r.Err() != nil {
				// What the source served is the cause, whatever dst made of
				// it; the error names the blob and the source.
				return r.Err()
			}
			if err != nil {
				return fmt.Errorf("put blob %s: %w", d.Digest, err)
			}
			return nil
		})
	})
	switch {
	case err != nil:
		return item, err
	case !opened:
		item.Action = Skipped // dst had it and did not read a byte
		meter.Report(progress.BlobSkipped)
	default:
		item.Action, item.Bytes = Copied, max(r.N(), reported)
		meter.Report(progress.BlobDone)
	}
	return item, nil
}

// sourceBody returns the body of one attempt at copying blob d: the blob
// of the source repository, opened on the first Read (so a destination
// that has the blob costs the source nothing; the transport reads it
// before it sends the request that carries it, so that the source's GET
// is answered before the upload holds a registry that serves one request
// at a time) and verified against its
// digest and size as it streams. It reports BlobStarted, BlobBytes and
// BlobVerified to meter; reported is how many bytes of the blob the meter
// has been told of, by this attempt or an earlier one, so that a retry
// does not count them twice.
func (c *copier) sourceBody(ctx context.Context, d ocispec.Descriptor, meter *verify.Meter, reported *int64) *body.Lazy {
	return body.New(func() (io.ReadCloser, error) {
		rc, err := c.src.Blob(ctx, d) // its errors name the blob and the source
		if err != nil {
			return nil, err
		}
		meter.Report(progress.BlobStarted)
		return rc, nil
	}, func(_, to int64, err error) {
		if to > *reported {
			meter.Add(int(to - *reported))
			*reported = to
		}
		if err == io.EOF { // the source's reader verifies before its io.EOF
			meter.Report(progress.BlobVerified)
		}
	})
}
