package image_test

import (
	"bytes"
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
)

func ExampleNew() {
	// A gzip'd tar of one file, and the digest of the tar: its diff_id.
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "hello.txt", Mode: 0o644, Content: []byte("hello")}}).
		Encode(context.Background(), &tgz)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A config that names the diff_id (image.Builder writes it for you).
	config := image.BytesBlob(ocispec.MediaTypeImageConfig,
		[]byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["`+info.DiffID+`"]}}`))

	img, err := image.New(config, []image.Blob{image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes())}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	desc := img.Descriptor()
	fmt.Println("media type:", desc.MediaType)
	fmt.Println("blobs to upload first:", len(img.Blobs()))
	fmt.Println("digest is of the raw bytes:", desc.Digest.Algorithm().FromBytes(img.Raw()) == desc.Digest)

	// Pulling it back: Load checks the bytes against the digest.
	pulled, err := image.Load(desc, img.Raw(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same manifest:", pulled.Descriptor().Digest == desc.Digest, pulled.Manifest().Layers[0].MediaType)
	// Output:
	// media type: application/vnd.oci.image.manifest.v1+json
	// blobs to upload first: 2
	// digest is of the raw bytes: true
	// same manifest: true application/vnd.oci.image.layer.v1.tar+gzip
}

func ExampleNewBuilder() {
	ctx := context.Background()
	// A layer of files, spooled to a temporary file so that its digest is
	// known before it is pushed.
	sp, err := layer.FromFiles([]layer.File{
		{Name: "app", Mode: 0o755, Content: []byte("#!/bin/sh\necho hello\n")},
		{Name: "etc/app.conf", Mode: 0o644, Content: []byte("greeting=hello\n")},
	}).Spool(ctx, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sp.Remove()

	// The config: the fields people set, and rootfs.diff_ids and history
	// kept in step with the layers.
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.SetEntrypoint("/app")
	b.SetEnv("GREETING", "hello")
	b.ExposePort("8080/tcp")
	b.AddLayer(image.NewBlob(sp.Descriptor, sp.Open), sp.DiffID, "COPY app etc/ /")
	img, err := b.Image(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := b.Config()
	fmt.Println("layer:", img.Manifest().Layers[0].MediaType)
	fmt.Println("diff_ids:", len(cfg.RootFS.DiffIDs), cfg.RootFS.DiffIDs[0] == sp.DiffID)
	fmt.Println("history:", cfg.History[0].CreatedBy)
	fmt.Println("entrypoint:", cfg.Config.Entrypoint, "env:", cfg.Config.Env)
	// Output:
	// layer: application/vnd.oci.image.layer.v1.tar+gzip
	// diff_ids: 1 true
	// history: COPY app etc/ /
	// entrypoint: [/app] env: [GREETING=hello]
}

func ExampleSelectPlatform() {
	idx, err := image.ParseIndex("", []byte(`{
		"schemaVersion": 2,
		"mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": [
			{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 500,
			 "digest": "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
			 "platform": {"os": "linux", "architecture": "amd64"}},
			{"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 500,
			 "digest": "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
			 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
		]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	want, _ := image.ParsePlatform("linux/arm64") // arm64 means arm64/v8
	desc, err := image.SelectPlatform(idx, want)
	fmt.Println(image.FormatPlatform(*desc.Platform), desc.Digest.Encoded()[:12], err)

	_, err = image.SelectPlatform(idx, ocispec.Platform{OS: "linux", Architecture: "s390x"})
	fmt.Println(err)
	// Output:
	// linux/arm64/v8 3e23e8160039 <nil>
	// no manifest for linux/s390x; the index has linux/amd64, linux/arm64/v8
}
