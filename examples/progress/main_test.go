package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/regkit/regkit/image/validate"
)

// TestImageValid checks the generated image end to end: each layer is a
// tar whose digest is the diff_id its config lists.
func TestImageValid(t *testing.T) {
	img, err := generatedImage()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(t.Context(), img); err != nil {
		t.Fatal(err)
	}
}

// TestRun pushes, pulls and copies the generated image, and checks the
// summary line of each operation: every blob done, every byte counted.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("output:\n%s", strings.ReplaceAll(out.String(), "\r", "\n"))
	want := map[string]string{
		"push": "push: 7/7 blobs (7 moved, 0 verified, 0 skipped, 0 mounted), 1 manifest, 96.0 MiB in ",
		"pull": "pull: 7/7 blobs (7 moved, 7 verified, 0 skipped, 0 mounted), 1 manifest, 96.0 MiB in ",
		"copy": "copy: 7/7 blobs (7 moved, 7 verified, 0 skipped, 0 mounted), 1 manifest, 96.0 MiB in ",
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var summaries []string
	for _, l := range lines {
		if strings.Contains(l, ": ") && !strings.Contains(l, "\r") {
			summaries = append(summaries, l)
		}
	}
	if len(summaries) != 3 {
		t.Fatalf("summary lines = %q, want 3", summaries)
	}
	for i, op := range []string{"push", "pull", "copy"} {
		if !strings.HasPrefix(summaries[i], want[op]) {
			t.Errorf("summary %d = %q, want prefix %q", i, summaries[i], want[op])
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, want["copy"]) {
		t.Errorf("last line = %q, want prefix %q", last, want["copy"])
	}
	bar := lines[len(lines)-2] // the copy's bar, drawn one last time
	if !strings.Contains(bar, "\r") || !strings.HasSuffix(bar, "96.0/96.0 MiB  7/7 blobs") {
		t.Errorf("last bar = %q, want it full", bar)
	}
}
