package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/image/layer"
	"github.com/regkit/regkit/image/validate"
	"github.com/regkit/regkit/internal/regtest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
)

// builtLayer is a layer the test built, with the entries `tar -tv` must list
// for it: "mode owner name" or "mode owner name -> target".
type builtLayer struct {
	blob    image.Blob
	diffID  digest.Digest
	entries []string
}

// spool encodes l into a temporary file removed when the test ends.
func spool(t *testing.T, l *layer.Layer) (image.Blob, digest.Digest) {
	t.Helper()
	sp, err := l.Spool(t.Context(), t.TempDir())
	if err != nil {
		t.Fatalf("Spool = %v", err)
	}
	t.Cleanup(func() { sp.Remove() })
	return image.NewBlob(sp.Descriptor, sp.Open), sp.DiffID
}

// filesLayer is a gzip layer made by layer.FromFiles: files with modes and
// an owner, a directory and a symbolic link.
func filesLayer(t *testing.T) builtLayer {
	blob, diffID := spool(t, layer.FromFiles([]layer.File{
		{Name: "bin/app", Mode: 0o755, Content: []byte("#!/bin/sh\necho app\n")},
		{Name: "bin/app-latest", Mode: fs.ModeSymlink | 0o777, Linkname: "app"},
		{Name: "etc/app/config.json", Mode: 0o644, Content: []byte(`{"port":8080}`)},
		{Name: "srv/data", Mode: fs.ModeDir | 0o750, UID: 1000, GID: 1000},
		{Name: "srv/data/secret", Mode: 0o600, UID: 1000, GID: 1000, Content: []byte("s3cret")},
	}))
	return builtLayer{blob, diffID, []string{
		"-rwxr-xr-x 0/0 bin/app",
		"lrwxrwxrwx 0/0 bin/app-latest -> app",
		"-rw-r--r-- 0/0 etc/app/config.json",
		"drwxr-x--- 1000/1000 srv/data",
		"-rw------- 1000/1000 srv/data/secret",
	}}
}

// appDir writes a small directory tree, with explicit modes (the umask does
// not decide them), and returns it with the entries its layer must list.
func appDir(t *testing.T, tag string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, mode fs.FileMode, content string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "conf"), 0o750); err != nil {
		t.Fatal(err)
	}
	write("conf/app.yaml", 0o640, "mode: "+tag+"\n")
	write("run.sh", 0o755, "#!/bin/sh\nexec /bin/app \"$@\"\n")
	if err := os.Symlink("run.sh", filepath.Join(dir, "start")); err != nil {
		t.Fatal(err)
	}
	return dir, []string{
		"drwxr-x--- 0/0 conf",
		"-rw-r----- 0/0 conf/app.yaml",
		"-rwxr-xr-x 0/0 run.sh",
		"lrwxrwxrwx 0/0 start -> run.sh",
	}
}

// builtConfig sets, through image.Builder, every config field the test then
// reads back with skopeo.
func builtConfig(b *image.Builder) {
	b.SetEnv("PATH", "/usr/local/bin:/usr/bin:/bin")
	b.SetEnv("APP_MODE", "production")
	b.SetEntrypoint("/bin/app")
	b.SetCmd("--serve", "--port=8080")
	b.SetWorkingDir("/srv")
	b.SetUser("1000:1000")
	b.SetLabel("org.opencontainers.image.source", "https://example.com/app")
	b.ExposePort("8080/tcp")
	b.SetCreated(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
}

// checkConfig compares the config skopeo shows with what builtConfig set and
// the diff_ids of the layers.
func checkConfig(t *testing.T, got ocispec.Image, diffIDs []digest.Digest) {
	t.Helper()
	c := got.Config
	if want := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "APP_MODE=production"}; !slices.Equal(c.Env, want) {
		t.Errorf("Env = %q, want %q", c.Env, want)
	}
	if !slices.Equal(c.Entrypoint, []string{"/bin/app"}) || !slices.Equal(c.Cmd, []string{"--serve", "--port=8080"}) {
		t.Errorf("Entrypoint, Cmd = %q, %q", c.Entrypoint, c.Cmd)
	}
	if c.WorkingDir != "/srv" || c.User != "1000:1000" {
		t.Errorf("WorkingDir, User = %q, %q", c.WorkingDir, c.User)
	}
	if c.Labels["org.opencontainers.image.source"] != "https://example.com/app" {
		t.Errorf("Labels = %v", c.Labels)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts = %v, want 8080/tcp", c.ExposedPorts)
	}
	if got.Created == nil || !got.Created.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("Created = %v", got.Created)
	}
	if got.OS != "linux" || got.Architecture != "amd64" {
		t.Errorf("platform = %s/%s", got.OS, got.Architecture)
	}
	if got.RootFS.Type != "layers" || !slices.Equal(got.RootFS.DiffIDs, diffIDs) {
		t.Errorf("rootfs = %s %v, want layers %v", got.RootFS.Type, got.RootFS.DiffIDs, diffIDs)
	}
	if len(got.History) != len(diffIDs) {
		t.Errorf("history has %d entries, want %d", len(got.History), len(diffIDs))
	}
}

// tarList runs the system tar on a layer file and returns its entries as
// "mode owner name[ -> target]", without sizes and times.
func tarList(t *testing.T, path, mediaType string) []string {
	t.Helper()
	args := []string{"--numeric-owner", "-tvf", path}
	switch c, err := layer.CompressionOf(mediaType); {
	case err != nil:
		t.Fatalf("layer %s: %v", path, err)
	case c == layer.Gzip:
		args = append([]string{"-z"}, args...)
	case c == layer.Zstd:
		args = append([]string{"--zstd"}, args...)
	}
	out := regtest.Run(t, "tar", args...)
	var entries []string
	for line := range strings.Lines(out) {
		// -rwxr-xr-x 0/0  19 1970-01-01 00:00 bin/app
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("tar -tv line %q", line)
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), "/")
		entries = append(entries, f[0]+" "+f[1]+" "+name)
		if f[3] != "1970-01-01" {
			t.Errorf("tar -tv %s: entry %s is dated %s, want the epoch", path, name, f[3])
		}
	}
	return entries
}

// diffIDMismatches decompresses each layer of a layout, without regkit (Go's
// compress/gzip, the zstd command), hashes the tar with sha256 and returns a
// line for each layer whose hash is not the diff_id its config names.
func diffIDMismatches(t *testing.T, dir string, m ocispec.Manifest, cfg ocispec.Image) []string {
	t.Helper()
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return []string{fmt.Sprintf("%d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(m.Layers))}
	}
	var bad []string
	for i, l := range m.Layers {
		path := filepath.Join(dir, "blobs", "sha256", l.Digest.Encoded())
		var tarball []byte
		switch l.MediaType {
		case ocispec.MediaTypeImageLayerGzip:
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(f)
			if err == nil {
				tarball, err = io.ReadAll(zr)
			}
			f.Close()
			if err != nil {
				t.Fatalf("gunzip %s: %v", path, err)
			}
		case ocispec.MediaTypeImageLayerZstd:
			out, err := exec.Command("zstd", "-dc", path).Output()
			if err != nil {
				t.Fatalf("zstd -dc %s: %v", path, err)
			}
			tarball = out
		default:
			t.Fatalf("layer %d has media type %s", i, l.MediaType)
		}
		sum := sha256.Sum256(tarball)
		if got := digest.NewDigestFromBytes(digest.SHA256, sum[:]); got != cfg.RootFS.DiffIDs[i] {
			bad = append(bad, fmt.Sprintf("layer %d (%s): tar hashes to %s, config says %s", i, l.MediaType, got, cfg.RootFS.DiffIDs[i]))
		}
	}
	return bad
}

// skopeoCopied copies ref out of the registry into an OCI layout with skopeo
// and returns the layout's directory, its manifest, and the config skopeo
// inspect --config shows for ref.
func skopeoCopied(t *testing.T, ref string) (string, ocispec.Manifest, ocispec.Image) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	regtest.Run(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+ref, "oci:"+dir+":copied")
	_, m := readLayout(t, dir, "copied")
	var cfg ocispec.Image
	out := regtest.Run(t, "skopeo", "inspect", "--tls-verify=false", "--config", "docker://"+ref)
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("skopeo inspect --config: %v\n%s", err, out)
	}
	// The config in the layout is the one skopeo showed.
	var inLayout ocispec.Image
	readJSON(t, filepath.Join(dir, "blobs", "sha256", m.Config.Digest.Encoded()), &inLayout)
	if !slices.Equal(inLayout.RootFS.DiffIDs, cfg.RootFS.DiffIDs) {
		t.Errorf("layout config diff_ids %v, skopeo inspect --config %v", inLayout.RootFS.DiffIDs, cfg.RootFS.DiffIDs)
	}
	return dir, m, cfg
}

// checkBuilt checks an image pushed to repo as ref: regkit's validate on the
// image pulled back over HTTP, skopeo's copy and config, tar's listing of
// each layer, and an independent hash of each uncompressed layer.
func checkBuilt(t *testing.T, repo *repository.Repository, host, name string, want ocispec.Descriptor, layers []builtLayer) {
	t.Helper()
	pulled, err := repo.Image(t.Context(), want.Digest)
	if err != nil {
		t.Fatalf("pull %s: %v", want.Digest, err)
	}
	if err := validate.Image(t.Context(), pulled); err != nil {
		t.Errorf("validate.Image of the pushed image = %v", err)
	}

	dir, m, cfg := skopeoCopied(t, host+"/"+name+"@"+want.Digest.String())
	var diffIDs []digest.Digest
	for _, l := range layers {
		diffIDs = append(diffIDs, l.diffID)
	}
	checkConfig(t, cfg, diffIDs)
	if len(m.Layers) != len(layers) {
		t.Fatalf("skopeo copied %d layers, want %d", len(m.Layers), len(layers))
	}
	for i, l := range m.Layers {
		if wantDesc := layers[i].blob.Descriptor(); l.Digest != wantDesc.Digest || l.MediaType != wantDesc.MediaType {
			t.Errorf("layer %d in the layout = %s %s, want %s %s (skopeo recompressed it)", i, l.MediaType, l.Digest, wantDesc.MediaType, wantDesc.Digest)
		}
		got := tarList(t, filepath.Join(dir, "blobs", "sha256", l.Digest.Encoded()), l.MediaType)
		if !slices.Equal(got, layers[i].entries) {
			t.Errorf("tar -tv of layer %d (%s):\n got %q\nwant %q", i, l.MediaType, got, layers[i].entries)
		}
	}
	for _, e := range diffIDMismatches(t, dir, m, cfg) {
		t.Error(e)
	}
}

// TestBuiltImagesAreValid builds images with image/layer and image.Builder,
// pushes them to the fake over HTTP, and has real tools check them: skopeo
// copies each to an OCI layout and shows its config, tar lists the files of
// each layer, and each layer decompresses (gzip in Go, zstd with the zstd
// command) to the diff_id its config names.
func TestBuiltImagesAreValid(t *testing.T) {
	regtest.Tool(t, "skopeo")
	regtest.Tool(t, "tar")
	regtest.Tool(t, "zstd")
	ctx := t.Context()
	srv := fake.Serve(t)
	reg, err := registry.New(srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	platform := ocispec.Platform{OS: "linux", Architecture: "amd64"}

	files := filesLayer(t)
	dir, dirEntries := appDir(t, "zstd")
	blob, diffID := spool(t, layer.FromDir(dir, layer.WithCompression(layer.Zstd)))
	fromDir := builtLayer{blob, diffID, dirEntries}

	t.Run("spooled", func(t *testing.T) {
		b := image.NewBuilder(platform)
		builtConfig(b)
		b.AddLayer(files.blob, files.diffID, "COPY files /")
		b.AddLayer(fromDir.blob, fromDir.diffID, "COPY app/ /")
		img, err := b.Image(nil)
		if err != nil {
			t.Fatal(err)
		}
		repo := reg.Repository("built/spooled")
		desc, err := repo.Push(ctx, img, "1.0")
		if err != nil {
			t.Fatal(err)
		}
		checkBuilt(t, repo, srv.Host, "built/spooled", desc, []builtLayer{files, fromDir})
	})

	t.Run("streamed", func(t *testing.T) {
		// repository.PushLayer uploads each layer as it is built; the
		// image then names the blobs the registry already holds.
		repo := reg.Repository("built/streamed")
		dir, dirEntries := appDir(t, "gzip")
		b := image.NewBuilder(platform)
		builtConfig(b)
		var layers []builtLayer
		for _, l := range []struct {
			layer   *layer.Layer
			entries []string
		}{
			{layer.FromDir(dir), dirEntries},
			{layer.FromFiles([]layer.File{{Name: "VERSION", Mode: 0o444, Content: []byte("1.0\n")}}, layer.WithCompression(layer.Zstd)),
				[]string{"-r--r--r-- 0/0 VERSION"}},
		} {
			info, err := repo.PushLayer(ctx, l.layer)
			if err != nil {
				t.Fatalf("PushLayer = %v", err)
			}
			blob := image.NewBlob(info.Descriptor, func(ctx context.Context) (io.ReadCloser, error) {
				return repo.Blob(ctx, info.Descriptor)
			})
			b.AddLayer(blob, info.DiffID, "COPY")
			layers = append(layers, builtLayer{blob, info.DiffID, l.entries})
		}
		img, err := b.Image(nil)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := repo.Push(ctx, img, "1.0")
		if err != nil {
			t.Fatal(err)
		}
		checkBuilt(t, repo, srv.Host, "built/streamed", desc, layers)
	})

	t.Run("wrong diff_ids are caught", func(t *testing.T) {
		// The same layers with their diff_ids swapped: the counts agree, so
		// image.New takes it; every check must then refuse it.
		b := image.NewBuilder(platform)
		builtConfig(b)
		b.AddLayer(files.blob, fromDir.diffID, "COPY files /")
		b.AddLayer(fromDir.blob, files.diffID, "COPY app/ /")
		img, err := b.Image(nil)
		if err != nil {
			t.Fatal(err)
		}
		var le *validate.LayerError
		if err := validate.Image(ctx, img); !errors.As(err, &le) || le.Kind != validate.DiffIDMismatch || le.Index != 0 {
			t.Errorf("validate.Image of swapped diff_ids = %v, want a DiffIDMismatch of layer 0", err)
		}
		repo := reg.Repository("built/broken")
		desc, err := repo.Push(ctx, img, "1.0")
		if err != nil {
			t.Fatal(err)
		}
		dir, m, cfg := skopeoCopied(t, srv.Host+"/built/broken@"+desc.Digest.String())
		if bad := diffIDMismatches(t, dir, m, cfg); len(bad) != 2 {
			t.Errorf("independent check of swapped diff_ids found %d mismatches, want 2: %q", len(bad), bad)
		}
		if len(m.Layers) == 2 {
			// tar still lists each layer's files: the layers are fine,
			// the config lies about them.
			got := tarList(t, filepath.Join(dir, "blobs", "sha256", m.Layers[0].Digest.Encoded()), m.Layers[0].MediaType)
			if !slices.Equal(got, files.entries) {
				t.Errorf("tar -tv of layer 0 = %q, want %q", got, files.entries)
			}
		}
	})

	t.Run("spooled bytes are the encoded bytes", func(t *testing.T) {
		// Encode into memory gives the same layer as Spool: builds are
		// reproducible, so the checks above hold for either.
		var buf bytes.Buffer
		info, err := layer.FromDir(dir, layer.WithCompression(layer.Zstd)).Encode(ctx, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if info.Descriptor.Digest != fromDir.blob.Descriptor().Digest || info.DiffID != fromDir.diffID {
			t.Errorf("Encode = %s %s, Spool = %s %s", info.Descriptor.Digest, info.DiffID, fromDir.blob.Descriptor().Digest, fromDir.diffID)
		}
	})
}
