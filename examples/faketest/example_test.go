package faketest

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport/remote"
)

// The in-memory registry fails the way a registry over HTTP does when a
// test asks it to, and logs each call as the request regkit's HTTP client
// sends: here, a registry that refuses the move of latest with 503.
func ExampleRelease_unavailable() {
	ctx := context.Background()
	reg := fake.New()
	repo := reg.Repository("myapp1")
	if _, err := repo.Push(ctx, versionImage("1.0"), "1.0"); err != nil {
		panic(err)
	}

	reg.SetFaults(fake.FailWith(503).On("PUT", fake.RouteManifest).Times(1))
	reg.ResetRequests()
	_, err := Release(ctx, repo, "1.0")
	var re *remote.ResponseError // the error regkit's HTTP client returns
	if errors.As(err, &re) {
		fmt.Println("release failed:", re.StatusCode, string(re.Errors[0].Code))
	}
	for _, r := range reg.Requests() {
		line := fmt.Sprint(r.Method, " ", r.Route, " ", r.Status)
		if r.Fault != "" {
			line += " (fault: " + r.Fault + ")"
		}
		fmt.Println(line)
	}

	_, err = Release(ctx, repo, "1.0") // the fault fired once: a retry goes through
	fmt.Println("retry:", err)
	// Output:
	// release failed: 503 UNAVAILABLE
	// HEAD manifest 200
	// HEAD manifest 404
	// GET manifest 200
	// PUT manifest 503 (fault: status 503 on PUT manifest, once)
	// retry: <nil>
}

// versionImage returns a small image of one layer holding a VERSION file.
func versionImage(version string) *image.Image {
	var tgz bytes.Buffer
	info, err := layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o644, Content: []byte(version)}}).
		Encode(context.Background(), &tgz)
	if err != nil {
		panic(err)
	}
	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
	b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY VERSION /")
	img, err := b.Image(nil)
	if err != nil {
		panic(err)
	}
	return img
}
