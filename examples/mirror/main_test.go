package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun mirrors the image to a directory and back: all seven manifests
// (index, three platforms, SBOM, two signatures) arrive, digests unchanged,
// and the directory is an OCI layout.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(t.Context(), &out, dir); err != nil {
		t.Fatalf("mirror: %v\n%s", err, out.String())
	}
	for _, want := range []string{"to disk: 7 manifests", "again: 1 tag up to date, 0 bytes", "to the air-gapped registry: 7 manifests", "same digest: true", "validated: every layer matches its config", "referrer application/spdx+json"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "library", "ubuntu", "oci-layout")); err != nil {
		t.Errorf("no OCI layout written: %v", err)
	}
}
