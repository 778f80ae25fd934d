// Package registrytest is the behaviour suite of regkit: one set of tests,
// written once, that checks the whole object model (push, tag, move, list,
// pull, delete, referrers, bad input) over any [transport.Transport].
//
// It sits beside package registry, not under transport, because it drives
// the model (registry, repository, tag) that is built on a Transport, the
// way net/http/httptest sits with net/http: transport stays the contract
// alone and imports nothing of the model.
//
// regkit runs it against the in-memory registry, the registry on disk, the
// fake registry served over HTTP and a real registry. Implementers of their
// own Transport run it from a test of their package:
//
//	func TestMyTransport(t *testing.T) {
//		registrytest.Run(t, func(t *testing.T) transport.Transport { return newMine(t) })
//	}
package registrytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/internal/testimage"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/transport"
)

// Factory returns the transport one test runs against. It may return the
// same backend every time: each test uses repository names of its own.
type Factory func(t *testing.T) transport.Transport

// Capabilities says what the backend under test can do; the suite checks the
// matching behaviour. The zero value assumes a full OCI 1.1 registry with a
// catalog.
type Capabilities struct {
	// NoCatalog skips the catalog checks (registries that disable it).
	NoCatalog bool
	// NoIfMatch skips the conditional tag move checks.
	NoIfMatch bool
	// NoSHA512Manifests skips addressing a manifest by a sha512 digest
	// (the distribution registry 2.x refuses it; sha512 blobs still work).
	NoSHA512Manifests bool
	// NoManifestTagParams skips tagging a manifest in its put by a sha512
	// digest ([transport.PutManifestOptions.Tags]), for registries without
	// the tag query parameters of the distribution spec's next version: a
	// tag there names the manifest by its sha256 digest.
	NoManifestTagParams bool
}

// Run runs the whole suite against the transports newT returns, each check
// as a subtest of t, for a backend that does everything a full OCI 1.1
// registry with a catalog does. Use [RunWith] to leave out what the backend
// cannot do.
func Run(t *testing.T, newT Factory) { RunWith(t, newT, Capabilities{}) }

// RunWith runs the suite for a backend with the given capabilities.
func RunWith(t *testing.T, newT Factory, caps Capabilities) {
	s := &suite{newT: newT, caps: caps, prefix: "t" + randomHex(4)}
	tests := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"PushPull", testPushPull},
		{"PushSkipsExistingBlobs", testPushSkipsExisting},
		{"MoveTag", testMoveTag},
		{"PointIf", testPointIf},
		{"Tags", testTags},
		{"Repositories", testRepositories},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"Exists", testExists},
		{"BadInput", testBadInput},
		{"MalformedManifests", testMalformedManifests},
		{"CorruptReads", testCorruptReads},
		{"SHA512", testSHA512},
		{"Index", testIndex},
		{"Referrers", testReferrers},
		{"Uploads", testUploads},
		{"Mount", testMount},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, s) })
	}
}

type suite struct {
	newT   Factory
	caps   Capabilities
	prefix string
}

// env is what one test works with: a counting transport over the backend,
// the registry over it, and a repository-name prefix of its own.
type env struct {
	ctx    context.Context
	raw    transport.Transport
	count  *counting
	reg    *registry.Registry
	prefix string
}

func (s *suite) env(t *testing.T) *env {
	t.Helper()
	raw := s.newT(t)
	c := &counting{Transport: raw, calls: map[string]int{}}
	return &env{
		ctx:    t.Context(),
		raw:    raw,
		count:  c,
		reg:    registry.FromTransport(c),
		prefix: s.prefix + "-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())),
	}
}

// repo returns a repository name unique to this test.
func (e *env) repo(name string) string { return e.prefix + "/" + name }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newImage builds an image for platform p with n layers of random content.
func newImage(t *testing.T, p ocispec.Platform, n int) *image.Image {
	t.Helper()
	var layers []image.Blob
	var diffIDs []digest.Digest
	for i := range n {
		content := []byte(fmt.Sprintf("layer %d of %s: %s", i, image.FormatPlatform(p), randomHex(64)))
		b, diffID := testimage.Layer(ocispec.MediaTypeImageLayer, content)
		layers = append(layers, b)
		diffIDs = append(diffIDs, diffID)
	}
	cfg, err := json.Marshal(ocispec.Image{
		Platform: p,
		Config:   ocispec.ImageConfig{Labels: map[string]string{"nonce": randomHex(8)}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.New(image.BytesBlob(ocispec.MediaTypeImageConfig, cfg), layers, nil)
	if err != nil {
		t.Fatalf("image.New: %v", err)
	}
	return img
}

var linuxAMD64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}

// mustPush pushes img to repo under tags and checks the descriptor.
func (e *env) mustPush(t *testing.T, repo string, img *image.Image, tags ...string) ocispec.Descriptor {
	t.Helper()
	desc, err := e.reg.Repository(repo).Push(e.ctx, img, tags...)
	if err != nil {
		t.Fatalf("Push(%s, %v) = %v", repo, tags, err)
	}
	if desc.Digest != img.Descriptor().Digest {
		t.Fatalf("Push(%s) digest = %s, want %s", repo, desc.Digest, img.Descriptor().Digest)
	}
	return desc
}
