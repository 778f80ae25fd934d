// Command promote copies myapp1:3.0 from a staging registry to a production
// registry and moves latest there, as a deployment pipeline does after the
// release passed its checks.
//
// Both registries are regkit's fake, served over HTTP on loopback, so the
// copy is a real one between two hosts: each blob streams from staging to
// production, verified against its digest on the way, and the manifest
// arrives byte for byte (same digest). latest is moved only if it still
// points at the release it pointed at before, so a concurrent promotion is
// never overwritten.
//
//	go run ./examples/promote
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	stagingSrv, prodSrv := fake.NewServer(), fake.NewServer()
	defer stagingSrv.Close()
	defer prodSrv.Close()
	staging, err := registry.New(stagingSrv.Host)
	if err != nil {
		return err
	}
	prod, err := registry.New(prodSrv.Host)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "staging %s, production %s\n", stagingSrv.Host, prodSrv.Host)

	// Production runs 2.0; staging has built 3.0.
	v2, err := release("2.0")
	if err != nil {
		return err
	}
	if _, err := prod.Repository("myapp1").Push(ctx, v2, "2.0", "latest"); err != nil {
		return err
	}
	v3, err := release("3.0")
	if err != nil {
		return err
	}
	if _, err := staging.Repository("myapp1").Push(ctx, v3, "3.0"); err != nil {
		return err
	}

	// Promote: copy 3.0 across, then move latest from 2.0 to it.
	dst := prod.Repository("myapp1")
	before, err := dst.Tag("latest").Resolve(ctx)
	if err != nil {
		return err
	}
	rep, err := regkit.Copy(ctx, staging.Repository("myapp1"), "3.0", dst, nil)
	if err != nil {
		return err
	}
	blobs := map[regkit.CopyAction]int{}
	for _, b := range rep.Blobs {
		blobs[b.Action]++
	}
	fmt.Fprintf(out, "copied myapp1:3.0: %d blobs copied, %d already there, %d bytes\n",
		blobs[regkit.Copied], blobs[regkit.Skipped], rep.Bytes())
	if err := dst.Tag("latest").PointIf(ctx, rep.Descriptor, before.Digest); err != nil {
		return fmt.Errorf("move latest: %w", err)
	}

	latest, err := dst.Tag("latest").Resolve(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "production latest: %s (was %s)\n", short(latest.Digest.String()), short(before.Digest.String()))
	fmt.Fprintf(out, "same image as staging 3.0: %v\n", latest.Digest == v3.Descriptor().Digest)
	return nil
}

// release builds a small image of myapp1 at version: a config, a base layer
// shared by every version, and a layer of its own.
func release(version string) (*image.Image, error) {
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.SetLabel("version", version)
	for _, f := range [][2]string{{"etc/base", "base system\n"}, {"app/VERSION", "myapp1 " + version + "\n"}} {
		layer, diffID, err := tarLayer(f[0], f[1])
		if err != nil {
			return nil, err
		}
		b.AddLayer(layer, diffID, "")
	}
	return b.Image(nil)
}

// tarLayer returns a gzip-compressed layer holding one file, and its
// diff_id (the digest of the uncompressed tar), which the image config
// lists. Entries have a fixed time, so the same content gives the same
// digest.
func tarLayer(name, content string) (image.Blob, digest.Digest, error) {
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
		return image.Blob{}, "", err
	}
	if _, err := io.WriteString(tw, content); err != nil {
		return image.Blob{}, "", err
	}
	if err := tw.Close(); err != nil {
		return image.Blob{}, "", err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tarball.Bytes()); err != nil {
		return image.Blob{}, "", err
	}
	if err := zw.Close(); err != nil {
		return image.Blob{}, "", err
	}
	return image.BytesBlob(ocispec.MediaTypeImageLayerGzip, gz.Bytes()), digest.FromBytes(tarball.Bytes()), nil
}

func short(d string) string { return d[:19] }
