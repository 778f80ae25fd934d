package repository_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
)

// platformImage builds a one-layer image for os/arch/variant.
func platformImage(os, arch, variant string) *image.Image {
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o644, Content: []byte("myapp for " + arch + variant)}}).
		Encode(context.Background(), &tgz)
	if err != nil {
		log.Fatal(err)
	}
	b := image.NewBuilder(ocispec.Platform{OS: os, Architecture: arch, Variant: variant})
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /")
	img, err := b.Image(nil)
	if err != nil {
		log.Fatal(err)
	}
	return img
}

func ExampleRepository_PushPlatforms() {
	ctx := context.Background()
	repo := fake.New().Repository("myapp1")
	amd64, arm64 := platformImage("linux", "amd64", ""), platformImage("linux", "arm64", "v8")
	ix, err := repo.PushPlatforms(ctx, []*image.Image{amd64, arm64}, "3.0")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range ix.Manifests() {
		fmt.Println("3.0 has", image.FormatPlatform(*d.Platform))
	}

	// linux/arm64 finds the arm64/v8 image, as containerd matches it.
	img, err := repo.Tag("3.0").PlatformImage(ctx, ocispec.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("linux/arm64 is the arm64 image:", img.Descriptor().Digest == arm64.Descriptor().Digest)

	// A platform the index lacks is an error that lists those it has.
	_, err = repo.Tag("3.0").PlatformImage(ctx, ocispec.Platform{OS: "linux", Architecture: "s390x"})
	fmt.Println(err != nil)
	// Output:
	// 3.0 has linux/amd64
	// 3.0 has linux/arm64/v8
	// linux/arm64 is the arm64 image: true
	// true
}

func ExampleRepository_Referrers() {
	ctx := context.Background()
	repo := fake.New().Repository("myapp1")
	app, err := repo.Push(ctx, platformImage("linux", "amd64", ""), "3.0")
	if err != nil {
		log.Fatal(err)
	}

	// An SBOM attached to myapp1:3.0: an artifact whose subject is the image.
	const sbomType = "application/spdx+json"
	sbom, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		[]image.Blob{image.BytesBlob(sbomType, []byte(`{"spdxVersion":"SPDX-2.3"}`))},
		&image.Options{ArtifactType: sbomType, Subject: &app})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := repo.Push(ctx, sbom); err != nil { // by digest: no tag
		log.Fatal(err)
	}

	for d, err := range repo.Referrers(ctx, app.Digest, &repository.ReferrersOptions{ArtifactType: sbomType}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("referrer:", d.ArtifactType, d.Digest == sbom.Descriptor().Digest)
		if err := repo.Delete(ctx, d.Digest); err != nil {
			log.Fatal(err)
		}
	}
	n := 0
	for _, err := range repo.Referrers(ctx, app.Digest, nil) {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println("referrers after the delete:", n)
	// Output:
	// referrer: application/spdx+json true
	// referrers after the delete: 0
}
