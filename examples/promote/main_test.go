package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/image/validate"
)

// TestReleaseValid checks the images the example pushes end to end, and
// that the versions share their base layer (layers are reproducible).
func TestReleaseValid(t *testing.T) {
	var bases []digest.Digest
	for _, v := range []string{"2.0", "3.0"} {
		img, err := release(t.Context(), v)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(t.Context(), img); err != nil {
			t.Errorf("release(%s): %v", v, err)
		}
		bases = append(bases, img.Manifest().Layers[0].Digest)
	}
	if bases[0] != bases[1] {
		t.Errorf("base layers differ between versions: %s, %s", bases[0], bases[1])
	}
}

// TestRun runs the promotion: 3.0 arrives with the same digest and latest
// moves to it.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("promote: %v\n%s", err, out.String())
	}
	for _, want := range []string{"copied myapp1:3.0: 2 blobs copied, 1 already there", "same image as staging 3.0: true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
