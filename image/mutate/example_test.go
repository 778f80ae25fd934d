package mutate_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/mutate"
	"github.com/regkit/regkit/registry/fake"
)

// tarLayer returns an uncompressed tar layer of one file: its digest is
// its diff_id.
func tarLayer(name, content string) mutate.Layer {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content))}); err != nil {
		log.Fatal(err)
	}
	tw.Write([]byte(content))
	tw.Close()
	return mutate.Layer{
		Blob:    image.BytesBlob(ocispec.MediaTypeImageLayer, b.Bytes()),
		DiffID:  digest.FromBytes(b.Bytes()),
		History: ocispec.History{CreatedBy: "COPY " + name + " /"},
	}
}

func ExampleAppend() {
	ctx := context.Background()
	reg := fake.New()

	// A base image in the registry.
	os := tarLayer("etc/os-release", "ID=tiny\n")
	cfg := fmt.Sprintf(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%q]}}`, os.DiffID)
	b, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(cfg)), []image.Blob{os.Blob}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := reg.Repository("base").Push(ctx, b, "1"); err != nil {
		log.Fatal(err)
	}

	// Pull it (lazily: its layers are not read), add the app, push.
	base, err := reg.Repository("base").Tag("1").Image(ctx)
	if err != nil {
		log.Fatal(err)
	}
	img, err := mutate.Append(ctx, base, []mutate.Layer{tarLayer("app", "#!/bin/sh\necho hi\n")},
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
