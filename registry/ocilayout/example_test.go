package ocilayout_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/ocilayout"
)

// ExampleNew keeps an image on disk: repository myapp1 becomes the OCI
// image layout <dir>/myapp1, which `skopeo inspect oci:<dir>/myapp1:3.0`
// reads too.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "images")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	reg, err := ocilayout.New(dir)
	if err != nil {
		panic(err)
	}
	defer reg.Close()

	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o644, Content: []byte("hello")}}).
		Encode(ctx, &tgz)
	if err != nil {
		panic(err)
	}
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /")
	img, err := b.Image(nil)
	if err != nil {
		panic(err)
	}
	repo := reg.Repository("myapp1")
	if _, err := repo.Push(ctx, img, "3.0", "latest"); err != nil {
		panic(err)
	}
	for tag, err := range repo.Tags(ctx, nil) {
		if err != nil {
			panic(err)
		}
		fmt.Println(tag)
	}
	// The layout: its two files, and the config, layer and manifest blobs.
	entries, _ := os.ReadDir(filepath.Join(dir, "myapp1"))
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	blobs, _ := os.ReadDir(filepath.Join(dir, "myapp1", "blobs", "sha256"))
	fmt.Println(len(blobs), "blobs")
	// Output:
	// 3.0
	// latest
	// blobs
	// index.json
	// oci-layout
	// 3 blobs
}

// ExampleOpenRepository opens one OCI image layout, as `skopeo copy …
// oci:<dir>:1.0` writes it, as a repository: here an empty directory,
// which the first push makes a layout.
func ExampleOpenRepository() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "build")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	repo, err := ocilayout.OpenRepository(filepath.Join(dir, "oci"))
	if err != nil {
		panic(err)
	}
	defer repo.Close()
	fmt.Println(repo.Name())

	img, err := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"}).Image(nil)
	if err != nil {
		panic(err)
	}
	if _, err := repo.Push(ctx, img, "1.0"); err != nil {
		panic(err)
	}
	desc, err := repo.Resolve(ctx, "1.0")
	if err != nil {
		panic(err)
	}
	fmt.Println(desc.Digest == img.Descriptor().Digest)
	for tag, err := range repo.Tags(ctx, nil) {
		if err != nil {
			panic(err)
		}
		fmt.Println(tag)
	}
	// Output:
	// oci
	// true
	// 1.0
}
