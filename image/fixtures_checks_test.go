package image_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
)

// Per-fixture checks for TestFixtures, in README order.

func checkNginx(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	types := layerTypes(img)
	if len(types) != 6 || slices.ContainsFunc(types, func(s string) bool { return s != image.MediaTypeDockerLayer }) {
		t.Errorf("layer types = %v, want 6 × %s", types, image.MediaTypeDockerLayer)
	}
	if c := img.Config().Descriptor(); c.MediaType != image.MediaTypeDockerConfig || img.ArtifactType() != "" {
		t.Errorf("config %s, artifactType %q; want a Docker config and no artifact type", c.MediaType, img.ArtifactType())
	}
}

func checkOctetStream(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	if c := img.Config().Descriptor(); c.MediaType != "application/octet-stream" || img.ArtifactType() != "" {
		t.Errorf("config %s, artifactType %q; want octet-stream tolerated as a Docker image config", c.MediaType, img.ArtifactType())
	}
}

func checkArmVariants(t *testing.T, raw []byte) {
	selects(t, mustIndex(t, raw), map[string]string{
		"linux/amd64": "b69959407d21", "linux/arm64": "2a64d8b28611", "linux/arm64/v8": "2a64d8b28611",
		"linux/arm": "5ca5e3117f6f", "linux/arm/v7": "5ca5e3117f6f", "linux/arm/v6": "4bcaeca137ff",
		"linux/arm/v5": "ce06da2e3e24", "linux/386": "2d06e13d26cc", "linux/riscv64": "bb2a26ee650f",
		"windows/amd64": "",
	}, "no manifest for windows/amd64; the index has linux/amd64, linux/arm/v5, linux/arm/v6, linux/arm/v7, "+
		"linux/arm64/v8, linux/386, linux/mips64le, linux/ppc64le, linux/riscv64, linux/s390x")
}

func checkWindows(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	selects(t, ix, map[string]string{
		"windows/amd64":                 "0e9e7fb64430",
		"windows(10.0.17763)/amd64":     "28a844614587",
		"windows(10.0.20348.707)/amd64": "0e9e7fb64430",
		"windows(10.0.14393)/amd64":     "",
		"linux/arm64":                   "80f1f8bcde1c",
	}, "")
	// Escaped slashes decode, but re-marshalling changes the bytes, which is
	// why the exact bytes are kept.
	again, err := json.Marshal(ix.Index())
	if err != nil {
		t.Fatal(err)
	}
	if ix.Index().MediaType != image.MediaTypeDockerManifestList || digest.FromBytes(again) == ix.Descriptor().Digest {
		t.Errorf("re-marshalled index kept digest %s; want a different one", ix.Descriptor().Digest)
	}
}

func checkNonstandardVariants(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	selects(t, ix, map[string]string{
		"linux/arm/v7": "07ebe243465e", "linux/arm": "07ebe243465e", "linux/arm64": "fb2fc0707b86",
		"linux/amd64": "ae1b0e06e8ad", "linux/s390x": "e4c0df75810b", "linux/arm/v6": "",
	}, "")
	for _, d := range ix.Manifests() {
		if d.MediaType != image.MediaTypeDockerSchema1 || image.IsManifest(d.MediaType) {
			t.Errorf("child %s has type %s; want schema1, not a decodable manifest", d.Digest, d.MediaType)
		}
	}
}

func checkPlainImage(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	if len(img.Layers()) != 1 || img.ArtifactType() != "" || img.Subject() != nil {
		t.Errorf("%d layers, artifactType %q, subject %v; want 1 layer of a plain image", len(img.Layers()), img.ArtifactType(), img.Subject())
	}
}

func checkOCIMultiarch(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	if a := ix.Index().Annotations; a["org.example.version"] != "v3" || len(a) != 3 {
		t.Errorf("annotations = %v", a)
	}
	selects(t, ix, map[string]string{
		"linux/amd64": "f8c9d547514d", "linux/arm64/v8": "e2a061deaaf4", "linux/arm": "f4682754068e",
		"linux/arm/v6": "8fb6a85012f4", "linux/arm/v5": "",
	}, "")
}

func checkAttestationIndex(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	buildx := digest.FromBytes(readFixture(t, "oci-image-manifest-buildx.json"))
	intoto := readFixture(t, "oci-manifest-buildkit-attestation-intoto.json")
	selects(t, ix, map[string]string{
		"linux/amd64": buildx.Encoded()[:12], "linux/arm64": "7a76cec94385", "unknown/unknown": "", "linux/s390x": "",
	}, "")
	_, err := ix.Select(ocispec.Platform{OS: "linux", Architecture: "s390x"})
	if want := "no manifest for linux/s390x; the index has linux/amd64, linux/arm64"; err == nil || err.Error() != want {
		t.Errorf("Select(linux/s390x) error = %v, want %q", err, want)
	}
	if att := ix.Manifests()[2]; att.Digest != digest.FromBytes(intoto) || att.Size != int64(len(intoto)) {
		t.Errorf("attestation descriptor %s/%d does not match the in-toto fixture", att.Digest, att.Size)
	}
}

func checkInToto(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	for i, l := range img.Layers() {
		d := l.Descriptor()
		if d.MediaType != "application/vnd.in-toto+json" || d.Annotations["in-toto.io/predicate-type"] == "" {
			t.Errorf("layer %d = %+v, want an in-toto layer with a predicate type", i, d)
		}
	}
}

func checkReferrer(artifactType string) func(t *testing.T, raw []byte) {
	return func(t *testing.T, raw []byte) {
		img := mustLoad(t, raw)
		s := img.Subject()
		if img.ArtifactType() != artifactType || img.Descriptor().ArtifactType != artifactType {
			t.Errorf("ArtifactType = %q, descriptor %q; want %q", img.ArtifactType(), img.Descriptor().ArtifactType, artifactType)
		}
		if s == nil || s.MediaType != ocispec.MediaTypeImageIndex || !hasPrefix(s.Digest, "dfae8f") {
			t.Errorf("Subject = %+v, want the index sha256:dfae8f…", s)
		}
		if c := img.Config().Descriptor(); c.Digest != ocispec.DescriptorEmptyJSON.Digest || c.Size != 2 {
			t.Errorf("config = %+v, want the empty descriptor", c)
		}
		if _, err := img.ConfigFile(t.Context()); err == nil {
			t.Error("ConfigFile of an artifact: no error")
		}
	}
}

func checkReferrersResponse(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	for i, name := range []string{"oci-artifact-manifest-sbom-referrer.json", "oci-artifact-manifest-signature-referrer.json"} {
		p := readFixture(t, name)
		d := ix.Manifests()[i]
		if d.Digest != digest.FromBytes(p) || d.Size != int64(len(p)) || d.ArtifactType != mustLoad(t, p).ArtifactType() {
			t.Errorf("referrer %d = %+v, does not describe %s", i, d, name)
		}
	}
}

func checkCosign(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	l := img.Layers()[0].Descriptor()
	if l.MediaType != "application/vnd.dev.cosign.simplesigning.v1+json" || l.Annotations["dev.cosignproject.cosign/signature"] == "" {
		t.Errorf("layer = %+v, want a cosign simplesigning layer with a signature", l)
	}
	if img.Subject() != nil || img.ArtifactType() != "" {
		t.Errorf("subject %v, artifactType %q; want none (tag-based scheme)", img.Subject(), img.ArtifactType())
	}
}

func checkHelm(layerType string) func(t *testing.T, raw []byte) {
	return func(t *testing.T, raw []byte) {
		img := mustLoad(t, raw)
		if img.ArtifactType() != "application/vnd.cncf.helm.config.v1+json" || img.Descriptor().ArtifactType != "" {
			t.Errorf("ArtifactType = %q, descriptor %q; want the helm config type, and no field", img.ArtifactType(), img.Descriptor().ArtifactType)
		}
		if got := layerTypes(img); !slices.Equal(got, []string{layerType}) {
			t.Errorf("layer types = %v, want [%s]", got, layerType)
		}
		_, err := img.ConfigFile(t.Context())
		checkErr(t, "ConfigFile(helm)", err, image.ErrUnsupportedMediaType)
	}
}

func checkEmptyDescriptor(t *testing.T, raw []byte) {
	img, err := image.Load(ocispec.Descriptor{Digest: digest.FromBytes(raw)}, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if img.ArtifactType() != "test/empty.artifact" {
		t.Errorf("ArtifactType = %q", img.ArtifactType())
	}
	for i, b := range img.Blobs() { // embedded data: readable with no fetch
		if s := readAll(t, b); s != "{}" {
			t.Errorf("blob %d read %q, want {}", i, s)
		}
	}
}

func checkSchema1(t *testing.T, raw []byte) {
	_, err := image.ParseManifest("", raw)
	checkErr(t, "ParseManifest(schema1)", err, image.ErrUnsupportedMediaType)
	_, err = image.Load(ocispec.Descriptor{Digest: digest.FromBytes(raw)}, raw, nil)
	checkErr(t, "Load(schema1)", err, image.ErrUnsupportedMediaType)
	refs, subject, err := image.Children(image.MediaTypeDockerSchema1Signed, raw)
	if err != nil || subject != nil {
		t.Fatalf("Children = %v, %v", subject, err)
	}
	for _, r := range refs {
		if !hasPrefix(r.Digest, "5f70bf18a086") || r.MediaType != image.MediaTypeDockerLayer {
			t.Errorf("Children ref %+v, want the busybox blobSum", r)
		}
	}
}

func checkForeign(t *testing.T, raw []byte) {
	n := 0
	for _, mt := range layerTypes(mustLoad(t, raw)) {
		if mt == image.MediaTypeDockerForeignLayer {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d foreign gzip layers, want 2", n)
	}
}

func checkNested(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	selects(t, ix, map[string]string{"linux/amd64": ""}, "no manifest for linux/amd64; the index has no platforms")
	refs, _, err := image.Children("", raw)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []bool{image.IsManifest(refs[0].MediaType), image.IsManifest(refs[1].MediaType) || image.IsIndex(refs[1].MediaType),
		image.IsIndex(refs[2].MediaType), image.IsIndex(refs[3].MediaType)}
	if !slices.Equal(kinds, []bool{true, false, true, true}) {
		t.Errorf("children kinds = %v, want manifest, other, index, index", kinds)
	}
}

func checkAllOptional(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	m := img.Manifest()
	if m.Config.URLs[0] != "https://some.example/config" || string(m.Config.Data) != "a" || m.Layers[0].Annotations["layer"] != "2" {
		t.Errorf("optional descriptor fields lost: %+v", m)
	}
	s := img.Subject()
	if s == nil || s.ArtifactType != "application/our-subject" || s.Platform == nil || s.Platform.OSVersion != "c" || !slices.Equal(s.Platform.OSFeatures, []string{"d"}) {
		t.Errorf("Subject = %+v", s)
	}
	if img.ArtifactType() != "application/our-artifact" || m.Annotations["top"] != "0" {
		t.Errorf("ArtifactType %q, annotations %v", img.ArtifactType(), m.Annotations)
	}
	// The config's data does not hash to its (made-up) digest, so it is not
	// used, and with no fetch the config cannot be read.
	img, err := image.Load(ocispec.Descriptor{Digest: digest.FromBytes(raw)}, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.Config().Open(t.Context()); err == nil {
		t.Error("config with mismatched data opened")
	}
}

func checkZstd(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	for _, mt := range layerTypes(img) {
		if mt != ocispec.MediaTypeImageLayerZstd {
			t.Errorf("layer type %s, want zstd", mt)
		}
	}
	cfg, err := img.ConfigFile(t.Context())
	if err != nil {
		t.Fatalf("ConfigFile: %v", err)
	}
	if len(cfg.History) != 5 || len(cfg.RootFS.DiffIDs) != 4 {
		t.Errorf("ConfigFile = %d history, %d diff_ids; want 5, 4", len(cfg.History), len(cfg.RootFS.DiffIDs))
	}
}

func checkIndexWithSubject(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	if s := ix.Subject(); s == nil || s.MediaType != ocispec.MediaTypeImageIndex || !hasPrefix(s.Digest, "e2bfc9cc6a84") {
		t.Errorf("Subject = %+v", s)
	}
	if _, subject, err := image.Children("", raw); err != nil || subject == nil {
		t.Errorf("Children subject = %v, %v", subject, err)
	}
	selects(t, ix, map[string]string{"linux/arm/v7": "58efe73e78fe", "linux/arm64": "4f9346006188"}, "")
}

func checkEmptyIndex(t *testing.T, raw []byte) {
	ix := mustIndex(t, raw)
	if ix.Manifests() == nil {
		t.Error("Manifests() = nil for [], want empty")
	}
	selects(t, ix, map[string]string{"linux/amd64": ""}, "no manifest for linux/amd64; the index has no platforms")
}

func checkLegacyArtifact(t *testing.T, raw []byte) {
	img := mustLoad(t, raw)
	if img.ArtifactType() != "referrer/image" || len(img.Layers()) != 0 || len(img.Blobs()) != 1 {
		t.Errorf("ArtifactType %q, %d layers; want referrer/image and none", img.ArtifactType(), len(img.Layers()))
	}
	if s := img.Subject(); s == nil || !hasPrefix(s.Digest, "9d84a5716c66") {
		t.Errorf("Subject = %+v", s)
	}
}

// hasPrefix reports whether d's hex starts with prefix.
func hasPrefix(d digest.Digest, prefix string) bool {
	return len(d.Encoded()) >= len(prefix) && d.Encoded()[:len(prefix)] == prefix
}
