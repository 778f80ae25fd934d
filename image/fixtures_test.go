package image_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	realworld "github.com/regkit/regkit/internal/fixtures"
)

// readFixture returns the bytes of a fixture file.
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return realworld.Read(t, name)
}

// fixtureFetch is a FetchFunc over the fixture folder, finding blobs by the
// sha256 of the files.
func fixtureFetch(t *testing.T) image.FetchFunc {
	t.Helper()
	blobs := map[digest.Digest][]byte{}
	for _, p := range realworld.Files(t) {
		blobs[digest.FromBytes(p)] = p
	}
	return func(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
		p, ok := blobs[d.Digest]
		if !ok {
			return nil, fmt.Errorf("blob %s not in the fixtures", d.Digest)
		}
		return io.NopCloser(bytes.NewReader(p)), nil
	}
}

// fixtureKind says which decoder a fixture belongs to.
type fixtureKind int

const (
	kindManifest fixtureKind = iota // image manifest: ParseManifest, Load
	kindIndex                       // index or referrers response: ParseIndex, LoadIndex
	kindConfig                      // image configuration blob
	kindSchema1                     // Docker schema 1: recognised, not decoded
	kindBroken                      // intentionally broken
)

// fixture is one file of the fixture folder and what decoding it must give.
type fixture struct {
	file      string
	sha256    string
	kind      fixtureKind
	detect    string // DetectMediaType result ("" with detectErr)
	detectErr error
	children  int                            // len(Children(...)) for decodable kinds
	check     func(t *testing.T, raw []byte) // extra checks, may be nil
}

// fixtures lists every file of the folder. Digests are those of its README.
var fixtures = []fixture{
	{file: "docker-manifest-v2-nginx-1.23.1-linux-amd64.json", sha256: "f26fbadb0acab4a21ecb4e337a326907e61fbec36c9a9b52e725669d99ed1261",
		kind: kindManifest, detect: image.MediaTypeDockerManifest, children: 7, check: checkNginx},
	{file: "docker-manifest-v2-config-octet-stream.json", sha256: "888206c77cd2811ec47e752ba291e5b7734e3ef137dfd222daadaca39a9f17bc",
		kind: kindManifest, detect: image.MediaTypeDockerManifest, children: 5, check: checkOctetStream},
	{file: "docker-manifest-list-multiarch-arm-variants.json", sha256: "bd5b5d4f108773d02b2f3aa930feaa08067091e96ecf45f10e98e76383ff7af9",
		kind: kindIndex, detect: image.MediaTypeDockerManifestList, children: 10, check: checkArmVariants},
	{file: "docker-manifest-list-windows-osversion-escaped-slashes.json", sha256: "567018293e51a89db96ce4c9679fdefc89b3d17a9fe9e94c0091b04ac5bb4e89",
		kind: kindIndex, detect: image.MediaTypeDockerManifestList, children: 10, check: checkWindows},
	{file: "docker-manifest-list-schema1-children-nonstandard-variants.json", sha256: "ae55d2bdfcc9f24b2ac571f0081a64d6e6089b2c5e503ff3b718a646c26cbd3d",
		kind: kindIndex, detect: image.MediaTypeDockerManifestList, children: 5, check: checkNonstandardVariants},
	{file: "oci-image-manifest-buildx.json", sha256: "da8b190665956ea07890a0273e2a9c96bfe291662f08e2860e868eef69c34620",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkPlainImage},
	{file: "oci-image-index-multiarch.json", sha256: "6fe828b32b9b4572f32b16c1c0a4d675660b19ec207d010724309374252c2d6d",
		kind: kindIndex, detect: ocispec.MediaTypeImageIndex, children: 4, check: checkOCIMultiarch},
	{file: "oci-index-buildkit-attestations.json", sha256: "db8f2a6e112ea6396f57d073269ecfac61e8dcdad3a4a643dcb577522492f898",
		kind: kindIndex, detect: ocispec.MediaTypeImageIndex, children: 4, check: checkAttestationIndex},
	{file: "oci-manifest-buildkit-attestation-intoto.json", sha256: "26da286bbc886aa14d191808db8fcbbd5d8ec68cf0047f954133e76d8e73d71c",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 3, check: checkInToto},
	{file: "oci-artifact-manifest-sbom-referrer.json", sha256: "0484e93c23cddf24a8400547119558312023295af241d4cd1eaf1b27145c5026",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkReferrer("application/example.sbom")},
	{file: "oci-artifact-manifest-signature-referrer.json", sha256: "741132f956e196c3858dab17e50ea977056f2f1ce1ad2900f11f4c8ff2d4203b",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkReferrer("application/example.signature")},
	{file: "oci-referrers-response-index.json", sha256: "955b8a891713a806107edb6dd09410233a9e7926584b1d6fd8b7b5342296188b",
		kind: kindIndex, detect: ocispec.MediaTypeImageIndex, children: 2, check: checkReferrersResponse},
	{file: "cosign-signature-manifest-dockerhub.json", sha256: "7ebe8964225fa4619b53aa35416ef0246c037e36ddf81776b21b15e1dda2262b",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkCosign},
	{file: "helm-chart-manifest-no-mediatype.json", sha256: "a0fc1e52764215bd82ed15b4a1544e3716c16a99f0e43116137b330e6c45b3de",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkHelm("application/vnd.cncf.helm.chart.content.v1.tar+gzip")},
	{file: "helm-chart-manifest-legacy-layer-type.json", sha256: "b544f71ecd82372bc9a3c0dbef378abfd2734fe437df81ff6e242a0d720d8e3e",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkHelm("application/tar+gzip")},
	{file: "oci-artifact-empty-descriptor.json", sha256: "7156dd4030da2375969c4da97e051d907f54ff8e9d28cc82c57289bbd22e3f9f",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkEmptyDescriptor},
	{file: "docker-schema1-signed-manifest.json", sha256: "e028c450623065a8813712d8018f9a3d49e8adaad885f6e01371a1e26bd2224d",
		kind: kindSchema1, detect: image.MediaTypeDockerSchema1Signed, children: 3, check: checkSchema1},
	{file: "docker-manifest-v2-foreign-layers.json", sha256: "aef1535090a588dcdf5cc471898185ef5c9d109d396b5de5593a93dfea36c0c5",
		kind: kindManifest, detect: image.MediaTypeDockerManifest, children: 6, check: checkForeign},
	{file: "oci-index-nested-mixed-mediatypes.json", sha256: "609fbc98992540437b332a6973eaa8f90ba3eb1ac7806c2f62f8cc078a0aedd4",
		kind: kindIndex, detect: ocispec.MediaTypeImageIndex, children: 4, check: checkNested},
	{file: "oci-manifest-missing-mediatype.json", sha256: "98ceaf93e482fe91b9bfd6bba07137c098e49ee2d55e69f09fb6c951e75e0e46",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkPlainImage},
	{file: "oci-manifest-all-optional-fields.json", sha256: "06abf9ac6245c106c285facaa0287ea2d37d537b181fc44ec82cd11f92f8fc52",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 2, check: checkAllOptional},
	{file: "oci-manifest-zstd-layers-buildkit.json", sha256: "6035283d3ffc89e51878d051d6699ca4a76212704577939ce8d3f6792af7cd36",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 5, check: checkZstd},
	{file: "oci-index-with-subject-referrer.json", sha256: "7679bc22c33b87aa345c6950a993db98a6df7a6cc77a35c388908a3a50be6bad",
		kind: kindIndex, detect: ocispec.MediaTypeImageIndex, children: 3, check: checkIndexWithSubject},
	{file: "oci-index-empty-manifests.json", sha256: "b2a5fcfb112ccde647a5a3dc0215c2c9e7d0ce598924a5ec48aa85beca048286",
		kind: kindIndex, detect: ocispec.MediaTypeImageIndex, children: 0, check: checkEmptyIndex},
	{file: "oci-artifact-legacy-config-type-empty-layers.json", sha256: "c5e00045954a70e3fd28307dd543d4cc158946117943700b8f520f72ddca031f",
		kind: kindManifest, detect: ocispec.MediaTypeImageManifest, children: 1, check: checkLegacyArtifact},
	{file: "broken-unknown-schema-version.json", sha256: "dc5bc5be2ec1f465009f53b51d16bcc2a621e45c3fa0ac986dce9fcd88531ef5",
		kind: kindBroken, detectErr: image.ErrUnsupportedMediaType, check: checkBroken(image.ErrUnsupportedMediaType)},
	{file: "broken-non-json-manifest.bin", sha256: "6c920ac27be03fc95cfcc3bb86f7e4893241c35a462145445ee46398330b5ec3",
		kind: kindBroken, detectErr: image.ErrInvalid, check: checkBroken(image.ErrInvalid)},
	{file: "oci-image-config-buildkit.json", sha256: "1772fd0a3b45a62fc5e23737bf8aa63ea2cb178a02e57cec4d14ef9e6fcc4c95",
		kind: kindConfig, detectErr: image.ErrUnsupportedMediaType, check: checkConfig},
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			raw := readFixture(t, fx.file)
			want := digest.NewDigestFromEncoded(digest.SHA256, fx.sha256)
			if got := digest.FromBytes(raw); got != want {
				t.Fatalf("sha256(%s) = %s, want %s", fx.file, got, want)
			}
			desc := ocispec.Descriptor{Digest: want, Size: int64(len(raw))}

			mt, err := image.DetectMediaType(raw)
			checkErr(t, "DetectMediaType", err, fx.detectErr)
			if mt != fx.detect {
				t.Errorf("DetectMediaType = %q, want %q", mt, fx.detect)
			}

			switch fx.kind {
			case kindManifest:
				img, err := image.Load(desc, raw, nil)
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if d := img.Descriptor(); d.Digest != want || d.MediaType != fx.detect || !bytes.Equal(img.Raw(), raw) {
					t.Errorf("Load descriptor = %+v", d)
				}
				_, err = image.ParseIndex("", raw)
				checkErr(t, "ParseIndex(manifest)", err, image.ErrUnsupportedMediaType)
				_, err = image.LoadIndex(desc, raw)
				checkErr(t, "LoadIndex(manifest)", err, image.ErrUnsupportedMediaType)
			case kindIndex:
				ix, err := image.LoadIndex(desc, raw)
				if err != nil {
					t.Fatalf("LoadIndex: %v", err)
				}
				if d := ix.Descriptor(); d.Digest != want || d.MediaType != fx.detect || !bytes.Equal(ix.Raw(), raw) {
					t.Errorf("LoadIndex descriptor = %+v", d)
				}
				_, err = image.ParseManifest("", raw)
				checkErr(t, "ParseManifest(index)", err, image.ErrUnsupportedMediaType)
				_, err = image.Load(desc, raw, nil)
				checkErr(t, "Load(index)", err, image.ErrUnsupportedMediaType)
			}
			if fx.kind == kindManifest || fx.kind == kindIndex || fx.kind == kindSchema1 {
				refs, _, err := image.Children("", raw)
				if err != nil || len(refs) != fx.children {
					t.Errorf("Children = %d refs, %v; want %d", len(refs), err, fx.children)
				}
				for i, r := range refs {
					if r.Digest.Validate() != nil || r.MediaType == "" {
						t.Errorf("Children[%d] = %+v, want a media type and a valid digest", i, r)
					}
				}
			}
			if fx.check != nil {
				fx.check(t, raw)
			}
		})
	}
}

// readmeRow matches a row of the README table: its file and sha256 cells.
var readmeRow = regexp.MustCompile("^\\| *\\d+ *\\| *`([^`]+)` *\\|.*\\| *`([0-9a-f]{64})` *\\|$")

// TestFixturesREADME checks that the table above, the README and the
// folder list the same files with the same digests, so that a new fixture
// cannot go untested.
func TestFixturesREADME(t *testing.T) {
	t.Parallel()
	f, err := realworld.FS.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	readme := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if m := readmeRow.FindStringSubmatch(sc.Text()); m != nil {
			readme[m[1]] = m[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for _, fx := range fixtures {
		table[fx.file] = fx.sha256
	}
	if fmt.Sprint(readme) != fmt.Sprint(table) {
		t.Errorf("README lists %d files, the test table %d; they differ:\nREADME %v\ntable  %v", len(readme), len(table), readme, table)
	}
	entries, err := fs.ReadDir(realworld.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if e.Name() != "README.md" {
			files = append(files, e.Name())
		}
	}
	var listed []string
	for name := range table {
		listed = append(listed, name)
	}
	slices.Sort(listed)
	if !slices.Equal(files, listed) {
		t.Errorf("folder has %v, test table has %v", files, listed)
	}
}

// mustLoad loads a fixture manifest, its blobs fetched from the folder.
func mustLoad(t *testing.T, raw []byte) *image.Image {
	t.Helper()
	img, err := image.Load(ocispec.Descriptor{Digest: digest.FromBytes(raw)}, raw, fixtureFetch(t))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// mustIndex loads a fixture index.
func mustIndex(t *testing.T, raw []byte) *image.Index {
	t.Helper()
	ix, err := image.LoadIndex(ocispec.Descriptor{Digest: digest.FromBytes(raw)}, raw)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// selects checks that each platform string selects the descriptor whose
// digest starts with the given prefix; a prefix "" means no match, with an
// error whose text is msg when msg is not "".
func selects(t *testing.T, ix *image.Index, cases map[string]string, msg string) {
	t.Helper()
	for platform, prefix := range cases {
		p, err := image.ParsePlatform(platform)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ix.Select(p)
		if prefix == "" {
			var pe *image.PlatformError
			if !errors.As(err, &pe) || !errors.Is(err, image.ErrNoPlatform) || (msg != "" && err.Error() != msg) {
				t.Errorf("Select(%s) = %s, %v; want a PlatformError %q", platform, d.Digest, err, msg)
			}
			continue
		}
		if err != nil || !strings.HasPrefix(string(d.Digest), "sha256:"+prefix) {
			t.Errorf("Select(%s) = %s, %v; want sha256:%s…", platform, d.Digest, err, prefix)
		}
	}
}

// layerTypes returns the media types of the image's layers.
func layerTypes(img *image.Image) []string {
	var out []string
	for _, l := range img.Layers() {
		out = append(out, l.Descriptor().MediaType)
	}
	return out
}

// checkConfig: the BuildKit config is an image config, not a manifest.
func checkConfig(t *testing.T, raw []byte) {
	_, err := image.ParseManifest("", raw)
	checkErr(t, "ParseManifest(config)", err, image.ErrUnsupportedMediaType)
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.History) != 5 || cfg.RootFS.Type != "layers" || len(cfg.RootFS.DiffIDs) != 4 {
		t.Errorf("config = %d history entries, rootfs %q with %d diff_ids; want 5, layers, 4", len(cfg.History), cfg.RootFS.Type, len(cfg.RootFS.DiffIDs))
	}
}

// checkBroken returns a check that decoding fails with want everywhere.
func checkBroken(want error) func(t *testing.T, raw []byte) {
	return func(t *testing.T, raw []byte) {
		_, err := image.ParseManifest("", raw)
		checkErr(t, `ParseManifest("")`, err, want)
		_, err = image.ParseIndex("", raw)
		checkErr(t, `ParseIndex("")`, err, want)
		_, _, err = image.Children("", raw)
		checkErr(t, `Children("")`, err, want)
		_, err = image.ParseManifest(ocispec.MediaTypeImageManifest, raw)
		checkErr(t, "ParseManifest(OCI manifest)", err, image.ErrInvalid)
		_, err = image.ParseIndex(image.MediaTypeDockerManifestList, raw)
		checkErr(t, "ParseIndex(Docker list)", err, image.ErrInvalid)
		_, err = image.Load(ocispec.Descriptor{Digest: digest.FromBytes(raw), MediaType: ocispec.MediaTypeImageManifest}, raw, nil)
		checkErr(t, "Load", err, image.ErrInvalid)
	}
}
