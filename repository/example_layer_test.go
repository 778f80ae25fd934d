package repository_test

import (
	"context"
	"fmt"
	"io/fs"
	"log"

	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
)

// A layer built and uploaded in one pass: its digest is known once it has
// been sent.
func ExampleRepository_PushLayer() {
	ctx := context.Background()
	repo := fake.New().Repository("myapp")
	l := layer.FromFiles([]layer.File{
		{Name: "etc/motd", Mode: 0o644, Content: []byte("hello\n")},
		{Name: "etc", Mode: fs.ModeDir | 0o755},
	})
	info, err := repo.PushLayer(ctx, l)
	if err != nil {
		log.Fatal(err)
	}
	rc, err := repo.Blob(ctx, info.Descriptor)
	if err != nil {
		log.Fatal(err)
	}
	rc.Close()
	// info.DiffID goes into the config's rootfs.diff_ids.
	fmt.Println(info.Descriptor.MediaType, info.DiffID.Validate() == nil)
	// Output:
	// application/vnd.oci.image.layer.v1.tar+gzip true
}
