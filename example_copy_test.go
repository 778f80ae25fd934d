package regkit_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
)

func ExampleCopy() {
	ctx := context.Background()
	reg := fake.New()
	app := reg.Repository("myapp1")
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o644, Content: []byte("myapp 3.0")}}).
		Encode(ctx, &tgz)
	if err != nil {
		log.Fatal(err)
	}
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /")
	img, err := b.Image(nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := app.Push(ctx, img, "3.0"); err != nil {
		log.Fatal(err)
	}

	// Promote myapp1:3.0 to prod/myapp1, as 3.0 and latest. On the same
	// registry the blobs are mounted, not copied.
	prod := reg.Repository("prod/myapp1")
	rep, err := regkit.Copy(ctx, app, "3.0", prod, &regkit.CopyOptions{Tags: []string{"3.0", "latest"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same digest:", rep.Descriptor.Digest == img.Descriptor().Digest)
	fmt.Println("tags:", rep.Tags)
	fmt.Println("blobs mounted:", rep.Count(regkit.Mounted))

	// Copying again finds everything in place.
	rep, err = regkit.Copy(ctx, app, "3.0", prod, &regkit.CopyOptions{Tags: []string{"3.0", "latest"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("second copy:", rep.Manifests[0].Action, rep.Bytes(), "bytes")
	// Output:
	// same digest: true
	// tags: [3.0 latest]
	// blobs mounted: 2
	// second copy: skipped 0 bytes
}
