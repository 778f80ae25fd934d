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
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
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
	v2, err := release(ctx, "2.0")
	if err != nil {
		return err
	}
	if _, err := prod.Repository("myapp1").Push(ctx, v2, "2.0", "latest"); err != nil {
		return err
	}
	v3, err := release(ctx, "3.0")
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
func release(ctx context.Context, version string) (*image.Image, error) {
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.SetLabel("version", version)
	for _, f := range []layer.File{
		{Name: "etc/base", Mode: 0o644, Content: []byte("base system\n")},
		{Name: "app/VERSION", Mode: 0o644, Content: []byte("myapp1 " + version + "\n")},
	} {
		// A gzip'd layer of one file, encoded in memory: the same pass
		// gives its descriptor and its diff_id, which the config lists.
		// Layers are reproducible, so every version shares the base one.
		var tgz bytes.Buffer
		info, err := layer.FromFiles([]layer.File{f}).Encode(ctx, &tgz)
		if err != nil {
			return nil, err
		}
		b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY "+f.Name+" /"+f.Name)
	}
	return b.Image(nil)
}

func short(d string) string { return d[:19] }
