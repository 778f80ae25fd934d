// Command quickstart walks through regkit's model on the in-memory registry:
// one registry, 25 repositories, three versions of myapp1, a tag that moves,
// listings, and an image pulled back and verified. It needs no network.
//
//	go run ./examples/quickstart
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/reference"
	"github.com/regkit/regkit/registry/fake"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	reg := fake.New() // a registry in memory: no network, no disk
	fmt.Println("registry: in memory")

	// Repositories myapp1 … myapp25, each with version 1.0.
	for i := 1; i <= 25; i++ {
		img, err := appImage(fmt.Sprintf("myapp%d", i), "1.0")
		if err != nil {
			return err
		}
		if _, err := reg.Repository(fmt.Sprintf("myapp%d", i)).Push(ctx, img, "1.0"); err != nil {
			return err
		}
	}
	fmt.Println("pushed myapp1 … myapp25, each tagged 1.0")

	// myapp1 gets versions 2.0 and 3.0; latest follows the newest.
	repo := reg.Repository("myapp1")
	v2, err := pushVersion(ctx, repo.Push, "2.0", "latest")
	if err != nil {
		return err
	}
	fmt.Printf("pushed myapp1:2.0 as latest   %s\n", short(v2.Digest))
	v3, err := pushVersion(ctx, repo.Push, "3.0")
	if err != nil {
		return err
	}
	fmt.Printf("pushed myapp1:3.0             %s\n", short(v3.Digest))
	if err := repo.Tag("latest").Point(ctx, v3); err != nil { // uploads nothing
		return err
	}
	fmt.Println("moved  myapp1:latest to 3.0 (no upload)")

	latest, err := repo.Tag("latest").Resolve(ctx)
	if err != nil {
		return err
	}
	three, err := repo.Tag("3.0").Resolve(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("latest = %s, 3.0 = %s, same image: %v\n", short(latest.Digest), short(three.Digest), latest.Digest == three.Digest)

	ref, err := reference.Parse("localhost:5000/myapp1") // no tag given
	if err != nil {
		return err
	}
	fmt.Printf("%q without a tag means %q\n", "localhost:5000/myapp1", ref.String())

	var repos []string
	for name, err := range reg.Repositories(ctx, nil) {
		if err != nil {
			return err
		}
		repos = append(repos, name)
	}
	fmt.Printf("repositories (%d): %s … %s\n", len(repos), strings.Join(repos[:4], ", "), repos[len(repos)-1])

	var tags []string
	for name, err := range repo.Tags(ctx, nil) {
		if err != nil {
			return err
		}
		tags = append(tags, name)
	}
	fmt.Printf("tags of myapp1: %s\n", strings.Join(tags, ", "))

	img, err := repo.Tag(ref.Ref()).Image(ctx) // fetched and verified by digest
	if err != nil {
		return err
	}
	version, err := readVersion(ctx, img)
	if err != nil {
		return err
	}
	fmt.Printf("pulled myapp1:%s: %d layer, /app/VERSION says %q, every digest verified\n", ref.Ref(), len(img.Layers()), version)
	return nil
}

type pushFunc func(context.Context, *image.Image, ...string) (ocispec.Descriptor, error)

func pushVersion(ctx context.Context, push pushFunc, version string, more ...string) (ocispec.Descriptor, error) {
	img, err := appImage("myapp1", version)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return push(ctx, img, append([]string{version}, more...)...)
}

// appImage builds a one-layer image whose layer is a gzipped tar holding
// /app/VERSION. image/layer encodes the layer, giving its descriptor and its
// diff_id in one pass; image.Builder writes the config, with rootfs.diff_ids
// and history in step with the layers.
func appImage(app, version string) (*image.Image, error) {
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{
		{Name: "app/VERSION", Mode: 0o644, Content: []byte(app + " " + version + "\n")},
	}).Encode(context.Background(), &tgz)
	if err != nil {
		return nil, err
	}
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.SetCmd("cat", "/app/VERSION")
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /app/")
	return b.Image(nil)
}

// readVersion reads /app/VERSION out of the image's filesystem. The layer
// that holds it is read to its end, which verifies it against its digest.
func readVersion(ctx context.Context, img *image.Image) (string, error) {
	b, err := files.ReadFile(ctx, img, "/app/VERSION")
	return strings.TrimSpace(string(b)), err
}

func short(d digest.Digest) string { return d.String()[:19] }
