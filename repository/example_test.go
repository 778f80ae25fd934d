package repository_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
)

// appImage builds a small one-layer image whose layer says version.
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

func ExampleRepository_Push() {
	ctx := context.Background()
	var repo *repository.Repository = fake.New().Repository("myapp1")

	// Blobs first, then the manifest, then both tags.
	desc, err := repo.Push(ctx, appImage("3.0"), "3.0", "latest")
	if err != nil {
		log.Fatal(err)
	}
	latest, err := repo.Tag("latest").Resolve(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("latest is 3.0:", latest.Digest == desc.Digest)
	// Output:
	// latest is 3.0: true
}

func ExampleRepository_Tags() {
	ctx := context.Background()
	var repo *repository.Repository = fake.New().Repository("myapp1")
	for _, v := range []string{"1.0", "2.0", "3.0"} {
		if _, err := repo.Push(ctx, appImage(v), v); err != nil {
			log.Fatal(err)
		}
	}

	for name, err := range repo.Tags(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name)
	}
	// Output:
	// 1.0
	// 2.0
	// 3.0
}

func ExampleRepository_Image() {
	ctx := context.Background()
	var repo *repository.Repository = fake.New().Repository("myapp1")
	desc, err := repo.Push(ctx, appImage("2.0"))
	if err != nil {
		log.Fatal(err)
	}

	// Pull by digest; every blob is verified as it is read.
	img, err := repo.Image(ctx, desc.Digest)
	if err != nil {
		log.Fatal(err)
	}
	// Read one file out of its filesystem (image/files decompresses the
	// layers and applies their whiteouts).
	file, err := files.ReadFile(ctx, img, "/VERSION")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", file)
	// Output:
	// myapp 2.0
}
