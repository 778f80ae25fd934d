package files_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/files"
)

// exampleImage is a two-layer image: the base has /etc/os-release and
// /tmp/junk, the upper layer changes the first and deletes the second.
func exampleImage() *image.Image {
	layer := func(files map[string]string, order ...string) (image.Blob, digest.Digest) {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		for _, name := range order {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[name]))})
			io.WriteString(tw, files[name])
		}
		tw.Close()
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(tb.Bytes())
		zw.Close()
		return image.BytesBlob(ocispec.MediaTypeImageLayerGzip, zb.Bytes()), digest.FromBytes(tb.Bytes())
	}
	base, id1 := layer(map[string]string{"etc/os-release": "ID=old\n", "tmp/junk": "x"}, "etc/os-release", "tmp/junk")
	top, id2 := layer(map[string]string{"etc/os-release": "ID=regkit\n", "tmp/.wh.junk": ""}, "etc/os-release", "tmp/.wh.junk")
	cfg, _ := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{id1, id2}},
	})
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, cfg), []image.Blob{base, top}, nil)
	if err != nil {
		panic(err)
	}
	return img
}

func ExampleReadFile() {
	data, err := files.ReadFile(context.Background(), exampleImage(), "/etc/os-release")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(data))
	// Output: ID=regkit
}

func ExampleWalk() {
	err := files.Walk(context.Background(), exampleImage(), func(hdr *tar.Header, r io.Reader) error {
		fmt.Println(hdr.Name)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: etc/os-release
}

func ExampleFlatten() {
	// Like crane export: one tar of the image's filesystem.
	var out bytes.Buffer
	if err := files.Flatten(context.Background(), exampleImage(), &out); err != nil {
		fmt.Println(err)
		return
	}
	tr := tar.NewReader(&out)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		fmt.Println(hdr.Name, hdr.Size)
	}
	// Output: etc/os-release 10
}
