package tag_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/tag"
	"github.com/regkit/regkit/transport"
)

func appImage(version string) *image.Image {
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o644, Content: []byte("myapp " + version)}}).
		Encode(context.Background(), &tgz)
	if err != nil {
		log.Fatal(err)
	}
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /")
	img, err := b.Image(nil)
	if err != nil {
		log.Fatal(err)
	}
	return img
}

func ExampleTag_Point() {
	ctx := context.Background()
	repo := fake.New().Repository("myapp1")
	v2, err := repo.Push(ctx, appImage("2.0"), "2.0", "latest")
	if err != nil {
		log.Fatal(err)
	}
	v3, err := repo.Push(ctx, appImage("3.0"), "3.0")
	if err != nil {
		log.Fatal(err)
	}

	// Move latest from 2.0 to 3.0: no blob is uploaded again.
	var latestTag *tag.Tag = repo.Tag("latest")
	if err := latestTag.Point(ctx, v3); err != nil {
		log.Fatal(err)
	}
	latest, err := repo.Tag("latest").Resolve(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("latest is 3.0:", latest.Digest == v3.Digest)
	fmt.Println("latest is 2.0:", latest.Digest == v2.Digest)
	// Output:
	// latest is 3.0: true
	// latest is 2.0: false
}

func ExampleTag_PointIf() {
	ctx := context.Background()
	repo := fake.New().Repository("myapp1")
	var descs []ocispec.Descriptor
	for _, v := range []string{"1.0", "2.0", "3.0"} {
		d, err := repo.Push(ctx, appImage(v), v)
		if err != nil {
			log.Fatal(err)
		}
		descs = append(descs, d)
	}
	latest := repo.Tag("latest")
	if err := latest.Point(ctx, descs[0]); err != nil {
		log.Fatal(err)
	}

	// Two release jobs both saw latest at 1.0; only the first one moves it.
	fmt.Println("job A:", latest.PointIf(ctx, descs[1], descs[0].Digest))
	err := latest.PointIf(ctx, descs[2], descs[0].Digest)
	fmt.Println("job B refused:", errors.Is(err, transport.ErrPreconditionFailed))
	// Output:
	// job A: <nil>
	// job B refused: true
}
