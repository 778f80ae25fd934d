// Command privatetags lists the tags of a private repository with the
// credentials docker login left in config.json, as a deployment tool would.
//
// It starts the fake registry on loopback behind token authentication, with
// one user, ci, who may pull and push team/app. Unless -config names a
// config.json, it logs in as ci and saves the credential into a config.json
// of its own, in a temporary directory, as docker login does. It then reads
// that file with auth.DockerConfig and lists the tags: anonymous, which the
// registry refuses, and with the credential, which it accepts.
//
//	go run ./examples/privatetags
//	go run ./examples/privatetags -config ~/.docker/config.json  # needs an entry for the fake's host
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/auth"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

func main() {
	config := flag.String("config", "", "a Docker config.json to read (default: a new one, written by logging in as ci)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *config); err != nil {
		log.Fatal(err)
	}
}

// ci is the one user of the fake registry.
var ci = auth.Credential{Username: "ci", Password: "correct horse battery staple"}

func run(ctx context.Context, out io.Writer, config string) error {
	srv := fake.NewServer(
		fake.WithTokenAuth(map[string]string{ci.Username: ci.Password}),
		fake.WithGrant(ci.Username, "team/app", "pull", "push"),
	)
	defer srv.Close()
	fmt.Fprintf(out, "registry %s: token auth, user ci may pull and push team/app\n", srv.Host)

	if config == "" {
		dir, err := os.MkdirTemp("", "privatetags")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		config = filepath.Join(dir, "config.json")
		if err := login(ctx, srv.Host, config); err != nil {
			return err
		}
		fmt.Fprintf(out, "logged in as ci; credential saved to %s\n", config)
	}
	creds, err := auth.DockerConfig(config)
	if err != nil {
		return err
	}
	if err := seed(ctx, srv.Host, creds); err != nil {
		return err
	}

	anon, err := registry.New(srv.Host)
	if err != nil {
		return err
	}
	for _, err := range anon.Repository("team/app").Tags(ctx, nil) {
		if !errors.Is(err, transport.ErrUnauthorized) && !errors.Is(err, transport.ErrDenied) {
			return fmt.Errorf("anonymous listing: %v, want a refusal", err)
		}
		fmt.Fprintf(out, "anonymous listing refused:\n  %v\n", err)
		break
	}

	reg, err := registry.New(srv.Host, registry.WithAuth(creds))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "tags of team/app, with the credential from config.json:")
	for tag, err := range reg.Repository("team/app").Tags(ctx, nil) {
		if err != nil {
			return err
		}
		fmt.Fprintln(out, " ", tag)
	}
	return nil
}

// login checks ci's credential against the registry and saves it to the
// config.json at path, as docker login does.
func login(ctx context.Context, host, path string) error {
	if err := auth.Login(ctx, host, ci, nil); err != nil {
		return err
	}
	store, err := auth.DockerConfig(path)
	if err != nil {
		return err
	}
	return store.Save(ctx, host, ci)
}

// seedImage is the image seed pushes: a config and no layers, enough to
// list tags.
func seedImage() (*image.Image, error) {
	return image.NewBuilder(ocispec.Platform{OS: "linux", Architecture: "amd64"}).Image(nil)
}

// seed pushes one small image to team/app under three tags.
func seed(ctx context.Context, host string, creds auth.CredentialStore) error {
	reg, err := registry.New(host, registry.WithAuth(creds))
	if err != nil {
		return err
	}
	img, err := seedImage()
	if err != nil {
		return err
	}
	_, err = reg.Repository("team/app").Push(ctx, img, "1.0", "1.1", "latest")
	return err
}
