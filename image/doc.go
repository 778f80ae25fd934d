// Package image models what a registry stores under a digest: image
// manifests with their config and layers ([Image]), and indexes of them
// ([Index]), in both the OCI and the Docker schema 2 formats. It builds
// them, decodes and checks pulled ones, detects media types, lists the
// content a manifest references, and selects the image for a platform.
//
// The package does no I/O of its own. It uses the types of
// github.com/opencontainers/image-spec (ocispec.Manifest, ocispec.Index,
// ocispec.Descriptor, ocispec.Platform) and never re-declares them; the
// repository and tag packages move its values to and from registries.
//
// # Building
//
// [New] marshals a manifest for a config [Blob] and layer blobs; [NewIndex]
// one for a list of manifest descriptors. [Options] choose the media type,
// and carry the OCI 1.1 artifactType and subject of artifacts (signatures,
// SBOMs) that refer to another manifest:
//
//	cfg := image.BytesBlob(ocispec.MediaTypeImageConfig, configJSON)
//	layer := image.BytesBlob(ocispec.MediaTypeImageLayerGzip, tgz)
//	img, err := image.New(cfg, []image.Blob{layer}, nil)
//
// [Builder] assembles an image config with its layers: set the fields
// people set (Env, Entrypoint, Cmd, WorkingDir, User, Labels, ports,
// volumes, created, platform) and add each layer with its diff_id; the
// config's rootfs.diff_ids and history follow the layers. A Builder
// makes an image from scratch; to add layers to a base, use
// image/mutate's Append, which keeps the base config as it is. [New]
// refuses an image config whose diff_ids do not count its layers
// ([DiffIDCountError]):
//
//	b := image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"})
//	b.SetEntrypoint("/app")
//	b.AddLayer(layer, diffID, "COPY app /app")
//	img, err := b.Image(nil)
//
// Four sub-packages work on an image's content: image/layer makes layers
// from directories, files, filesystems and tars, with their digest and
// diff_id in one pass, and decompresses them by media type; image/mutate
// makes a new image or index from a base plus layers (Append, AppendIndex,
// Rebase); image/files reads an image's filesystem, whiteouts applied
// (Walk, Flatten, ReadFile); image/validate reads an image's content and
// checks it end to end.
//
// # Decoding
//
// [Load] and [LoadIndex] take the bytes pulled for a descriptor, check that
// they hash to its digest, and decode them. [ParseManifest], [ParseIndex],
// [DetectMediaType] and [Children] work on bytes alone. Every descriptor
// must have a valid digest and a non-negative size. Errors wrap
// [ErrInvalid] (malformed or mismatched content) or
// [ErrUnsupportedMediaType] (a type this package does not decode, such as
// Docker schema 1, which is only recognised and listed by [Children]).
//
// A manifest's digest is the digest of its exact bytes. The decoded value
// is for reading; to push or copy a manifest, use [Image.Raw] or
// [Index.Raw], never a re-marshalled value.
//
// # Platforms
//
// [SelectPlatform] and [Index.Select] choose an index's image for a
// platform, normalising as containerd does (linux/arm64 is linux/arm64/v8,
// linux/arm is linux/arm/v7) and skipping attestations. [ParsePlatform]
// and [FormatPlatform] convert "linux/arm/v7" strings.
//
// Specifications:
// https://github.com/opencontainers/image-spec/blob/v1.1.1/manifest.md,
// https://github.com/opencontainers/image-spec/blob/v1.1.1/image-index.md,
// https://distribution.github.io/distribution/spec/manifest-v2-2/
package image
