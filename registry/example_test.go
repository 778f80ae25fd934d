package registry_test

import (
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
)

func ExampleRegistry_Repositories() {
	ctx := context.Background()
	reg := fake.New()
	img, err := image.New(
		image.BytesBlob(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)),
		nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"myapp2", "myapp1", "tools/lint"} {
		if _, err := reg.Repository(name).Push(ctx, img, "1.0"); err != nil {
			log.Fatal(err)
		}
	}

	// Two repositories per page; the iterator fetches the next page lazily.
	for name, err := range reg.Repositories(ctx, &repository.ListOptions{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name)
	}
	// Output:
	// myapp1
	// myapp2
	// tools/lint
}
