package regkit_test

import (
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry/fake"
)

func ExampleCopy() {
	ctx := context.Background()
	reg := fake.New()
	app := reg.Repository("myapp1")
	layer, diffID := testimage.Layer(ocispec.MediaTypeImageLayer, []byte("myapp 3.0"))
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.AddLayer(layer, diffID, "")
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
