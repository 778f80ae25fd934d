package mutate_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/image/mutate"
	"github.com/regkit/regkit/registry/fake"
)

// fileLayer returns a gzip'd layer of one file, encoded in memory by
// image/layer, which gives its descriptor and diff_id in the same pass.
func fileLayer(name string, mode fs.FileMode, content string) mutate.Layer {
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: name, Mode: mode, Content: []byte(content)}}).
		Encode(context.Background(), &tgz)
	if err != nil {
		log.Fatal(err)
	}
	return mutate.Layer{
		Blob:    image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()),
		DiffID:  info.DiffID,
		History: ocispec.History{CreatedBy: "COPY " + name + " /"},
	}
}

func ExampleAppend() {
	ctx := context.Background()
	reg := fake.New()

	// A base image in the registry.
	osRelease := fileLayer("etc/os-release", 0o644, "ID=tiny\n")
	builder := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	builder.AddLayer(osRelease.Blob, osRelease.DiffID, osRelease.History.CreatedBy)
	tiny, err := builder.Image(nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := reg.Repository("base").Push(ctx, tiny, "1"); err != nil {
		log.Fatal(err)
	}

	// Pull it (lazily: its layers are not read), add the app, push.
	base, err := reg.Repository("base").Tag("1").Image(ctx)
	if err != nil {
		log.Fatal(err)
	}
	img, err := mutate.Append(ctx, base, []mutate.Layer{fileLayer("app", 0o755, "#!/bin/sh\necho hi\n")},
		func(c *ocispec.Image) error {
			c.Config.Entrypoint = []string{"/app"}
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// The base layer is mounted from "base", not read.
	if _, err := reg.Repository("app").Push(ctx, img, "latest"); err != nil {
		log.Fatal(err)
	}

	c, err := img.ConfigFile(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(img.Layers()), "layers,", len(c.RootFS.DiffIDs), "diff_ids")
	fmt.Println(c.Config.Entrypoint, c.History[len(c.History)-1].CreatedBy)
	// Output:
	// 2 layers, 2 diff_ids
	// [/app] COPY app /
}
