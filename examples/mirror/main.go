// Command mirror keeps a multi-platform image and its signatures and SBOMs
// on disk, as an OCI image layout, and brings it back into another
// registry, as one does to carry images into an air-gapped network.
//
// An upstream registry (regkit's fake, served over HTTP) holds ubuntu:24.04
// for three platforms, with an SBOM and a signature attached to the index
// and a signature attached to the SBOM. The whole tree is copied to a
// directory of OCI layouts, which skopeo, oras and crane read too, and from
// there into an air-gapped registry, each time with regkit.Mirror, which
// copies every tag of a repository with its referrers, and nothing a
// second time. Every digest is the same at the end.
//
//	go run ./examples/mirror            # in a temporary directory
//	go run ./examples/mirror -dir ./mirror
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/image/validate"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/repository"
)

func main() {
	dir := flag.String("dir", "", "directory for the OCI layouts (default: a temporary one)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "mirror")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := run(context.Background(), os.Stdout, *dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer, dir string) error {
	upstreamSrv, airgapSrv := fake.NewServer(), fake.NewServer()
	defer upstreamSrv.Close()
	defer airgapSrv.Close()
	upstream, err := registry.New(upstreamSrv.Host)
	if err != nil {
		return err
	}
	airgap, err := registry.New(airgapSrv.Host)
	if err != nil {
		return err
	}
	disk, err := ocilayout.New(dir)
	if err != nil {
		return err
	}
	defer disk.Close()

	src := upstream.Repository("library/ubuntu")
	ix, err := seed(ctx, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "upstream ubuntu:24.04 = %s, %d platforms\n", ix.Descriptor().Digest, len(ix.Manifests()))

	// Mirror every tag (here one) with its referrers; a second run, as a
	// nightly job would make, finds the tag up to date and copies nothing.
	toDisk, err := regkit.Mirror(ctx, src, disk.Repository("library/ubuntu"), nil)
	if err != nil {
		return err
	}
	manifests, blobs := counts(toDisk)
	fmt.Fprintf(out, "to disk: %d manifests, %d blobs, %d bytes\n", manifests, blobs, toDisk.Bytes())
	if err := listLayout(out, filepath.Join(dir, "library", "ubuntu")); err != nil {
		return err
	}
	again, err := regkit.Mirror(ctx, src, disk.Repository("library/ubuntu"), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "again: %d tag up to date, %d bytes\n", again.Count(regkit.MirrorUpToDate), again.Bytes())

	back, err := regkit.Mirror(ctx, disk.Repository("library/ubuntu"), airgap.Repository("library/ubuntu"), nil)
	if err != nil {
		return err
	}
	manifests, blobs = counts(back)
	fmt.Fprintf(out, "to the air-gapped registry: %d manifests, %d blobs\n", manifests, blobs)

	dst := airgap.Repository("library/ubuntu")
	got, err := dst.Resolve(ctx, "24.04")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "air-gapped ubuntu:24.04 = %s, same digest: %v\n", got.Digest, got.Digest == ix.Descriptor().Digest)
	// Read every byte that arrived: each platform's layers decompress to
	// the diff_ids its config lists.
	if err := validate.Manifest(ctx, dst, got); err != nil {
		return err
	}
	fmt.Fprintln(out, "validated: every layer matches its config")
	for d, err := range dst.Referrers(ctx, got.Digest, nil) {
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  referrer %s %s\n", d.ArtifactType, d.Digest.Encoded()[:12])
	}
	arm, err := dst.Tag("24.04").PlatformImage(ctx, ocispec.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "linux/arm64 image: %s\n", arm.Descriptor().Digest)
	return nil
}

// counts returns the number of manifests and blobs the tags of a mirror
// copied (or found there).
func counts(rep *regkit.MirrorReport) (manifests, blobs int) {
	for _, t := range rep.Tags {
		if t.Copy != nil {
			manifests += len(t.Copy.Manifests)
			blobs += len(t.Copy.Blobs)
		}
	}
	return manifests, blobs
}

// seed pushes ubuntu:24.04 for three platforms into repo, with an SBOM and
// a signature of the index and a signature of the SBOM.
func seed(ctx context.Context, repo *repository.Repository) (*image.Index, error) {
	var imgs []*image.Image
	for _, p := range []string{"amd64", "arm64/v8", "arm/v7"} {
		arch, variant, _ := strings.Cut(p, "/")
		// A gzip'd layer of one file, encoded in memory: the same pass
		// gives its descriptor and its diff_id, which the config lists.
		var tgz bytes.Buffer
		info, err := layer.FromFiles([]layer.File{
			{Name: "etc/os-release", Mode: 0o644, Content: []byte("ubuntu 24.04 for " + p + "\n")},
		}).Encode(ctx, &tgz)
		if err != nil {
			return nil, err
		}
		b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: arch, Variant: variant})
		b.AddLayer(image.BytesBlob(info.Descriptor.MediaType, tgz.Bytes()), info.DiffID, "COPY os-release /etc/")
		img, err := b.Image(nil)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	ix, err := repo.PushPlatforms(ctx, imgs, "24.04")
	if err != nil {
		return nil, err
	}
	sbom, err := attach(ctx, repo, ix.Descriptor(), "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	if err != nil {
		return nil, err
	}
	if _, err := attach(ctx, repo, ix.Descriptor(), "application/vnd.dev.cosign.artifact.sig.v1+json", `{"sig":"index"}`); err != nil {
		return nil, err
	}
	if _, err := attach(ctx, repo, sbom, "application/vnd.dev.cosign.artifact.sig.v1+json", `{"sig":"sbom"}`); err != nil {
		return nil, err
	}
	return ix, nil
}

// attach pushes an artifact of artifactType holding body, whose subject is
// subject.
func attach(ctx context.Context, repo *repository.Repository, subject ocispec.Descriptor, artifactType, body string) (ocispec.Descriptor, error) {
	a, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
		[]image.Blob{image.BytesBlob(artifactType, []byte(body))},
		&image.Options{ArtifactType: artifactType, Subject: &subject})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return repo.Push(ctx, a)
}

// listLayout prints the files of the OCI layout at dir.
func listLayout(out io.Writer, dir string) error {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(dir, path); filepath.Dir(rel) == "." {
			fmt.Fprintf(out, "  %s\n", rel)
		} else {
			n++
		}
		return nil
	})
	fmt.Fprintf(out, "  blobs/sha256/… (%d files)\n", n)
	return err
}
