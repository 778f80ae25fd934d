package layer_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
)

// A layer from a list of files, encoded in one pass: its descriptor and its
// diff_id come out together.
func ExampleFromFiles() {
	l := layer.FromFiles([]layer.File{
		{Name: "app", Mode: fs.ModeDir | 0o755},
		{Name: "app/run", Mode: 0o755, Content: []byte("#!/bin/sh\necho hello\n")},
		{Name: "app/latest", Mode: fs.ModeSymlink | 0o777, Linkname: "run"},
	})
	info, err := l.Encode(context.Background(), io.Discard)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Descriptor.MediaType)
	fmt.Println(info.DiffID.Validate() == nil, info.DiffID != info.Descriptor.Digest)
	// Output:
	// application/vnd.oci.image.layer.v1.tar+gzip
	// true true
}

// A layer from a directory, spooled to a temporary file so that its
// descriptor is known before an image refers to it; the image's config
// names its diff_id.
func ExampleLayer_Spool() {
	ctx := context.Background()
	dir := exampleDir()
	defer os.RemoveAll(dir)
	sp, err := layer.FromDir(dir).Spool(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	defer sp.Remove()

	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{sp.DiffID}},
	})
	if err != nil {
		log.Fatal(err)
	}
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, config),
		[]image.Blob{image.NewBlob(sp.Descriptor, sp.Open)}, nil)
	if err != nil {
		log.Fatal(err)
	}

	// Read the layer back through the image.
	rc, err := img.Layers()[0].Open(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	tr, err := layer.Decompress(sp.Descriptor.MediaType, rc)
	if err != nil {
		log.Fatal(err)
	}
	r := tar.NewReader(tr)
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(h.Name, h.ModTime.Unix(), h.Uid)
	}
	// Output:
	// etc/ 0 0
	// etc/motd 0 0
}
