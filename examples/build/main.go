// Command build makes an image the way ko or a CI builder does, on the
// in-memory registry: a base image for two platforms, an application
// directory made into a layer and appended to every platform of the base,
// the result pushed as a new index, and a file read back out of it. It needs
// no network.
//
//	go run ./examples/build
package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/image/mutate"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
)

func main() {
	if err := run(context.Background(), fake.New(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// platforms are the platforms of the base image, and so of the app.
var platforms = []ocispec.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// run builds and pushes on reg, a registry in memory (no network, no disk).
func run(ctx context.Context, reg *fake.Registry, out io.Writer) error {
	base := reg.Repository("library/base")
	app := reg.Repository("myapp")

	// 1. A base image for two platforms, as a distribution publishes one.
	if err := pushBase(ctx, base); err != nil {
		return err
	}
	fmt.Fprintln(out, "pushed library/base:1.0 for linux/amd64 and linux/arm64")

	// 2. The application directory becomes one layer, pushed as it is
	// made: each file is read once and the layer is never held whole.
	dir, err := appDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	info, err := app.PushLayer(ctx, layer.FromDir(dir))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pushed the app layer %s (diff_id %s)\n", short(info.Descriptor.Digest.String()), short(info.DiffID.String()))

	// 3. The app appended to every platform of the base, pulled lazily: its
	// manifests and configs are read, its layers never are.
	baseIndex, err := base.Tag("1.0").Index(ctx)
	if err != nil {
		return err
	}
	appLayer := mutate.Layer{
		Blob:    image.NewBlob(info.Descriptor, nil), // already in myapp: Push skips it
		DiffID:  info.DiffID,
		History: ocispec.History{CreatedBy: "COPY app /app"},
	}
	index, imgs, err := mutate.AppendIndex(ctx, baseIndex, base.Image,
		func(ctx context.Context, p ocispec.Platform) ([]mutate.Layer, mutate.Edit, error) {
			return []mutate.Layer{appLayer}, func(c *ocispec.Image) error {
				c.Config.Entrypoint = []string{"/app/run.sh"}
				c.Config.WorkingDir = "/app"
				return nil
			}, nil
		})
	if err != nil {
		return err
	}

	// 4. Pushed to myapp: the base layers are mounted from library/base,
	// not downloaded and uploaded again.
	for _, img := range imgs {
		if _, err := app.Push(ctx, img); err != nil {
			return err
		}
	}
	desc, err := app.PushIndex(ctx, index, "1.0")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pushed myapp:1.0, an index of %d platforms %s\n", len(imgs), short(desc.Digest.String()))

	// 5. A file read back out of the arm64 image: the top layer holds it,
	// so the base layer below is not read.
	arm, err := app.Tag("1.0").PlatformImage(ctx, platforms[1])
	if err != nil {
		return err
	}
	hello, err := files.ReadFile(ctx, arm, "/app/hello.txt")
	if err != nil {
		return err
	}
	osRelease, err := files.ReadFile(ctx, arm, "/etc/os-release")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "myapp:1.0 linux/arm64 /app/hello.txt: %s", hello)
	fmt.Fprintf(out, "myapp:1.0 linux/arm64 /etc/os-release: %s", osRelease)
	return nil
}

// pushBase pushes library/base:1.0, one image per platform, each with one
// layer made from a list of files.
func pushBase(ctx context.Context, repo *repository.Repository) error {
	var imgs []*image.Image
	for _, p := range platforms {
		l := layer.FromFiles([]layer.File{
			{Name: "bin", Mode: fs.ModeDir | 0o755},
			{Name: "bin/sh", Mode: 0o755, Content: []byte("#!/bin/true\n")},
			{Name: "etc", Mode: fs.ModeDir | 0o755},
			{Name: "etc/os-release", Mode: 0o644, Content: []byte("ID=base ARCH=" + p.Architecture + "\n")},
		})
		sp, err := l.Spool(ctx, "") // a temp file: the digest is needed before the push
		if err != nil {
			return err
		}
		defer sp.Remove()
		b := image.NewBuilder(p)
		b.SetEnv("PATH", "/bin")
		b.AddLayer(image.NewBlob(sp.Descriptor, sp.Open), sp.DiffID, "ADD base files /")
		img, err := b.Image(nil)
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	_, err := repo.PushPlatforms(ctx, imgs, "1.0")
	return err
}

// appDir writes the application to a temporary directory: app/hello.txt
// and app/run.sh.
func appDir() (string, error) {
	dir, err := os.MkdirTemp("", "regkit-build-")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		return "", err
	}
	for name, content := range map[string]string{
		"app/hello.txt": "hello from myapp\n",
		"app/run.sh":    "#!/bin/sh\ncat /app/hello.txt\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// short returns the first 12 hex digits of a digest.
func short(d string) string {
	if len(d) > 19 {
		return d[7:19]
	}
	return d
}
