package main

import (
	"testing"

	"github.com/regkit/regkit/image/validate"
)

// TestRun runs the quickstart end to end on the in-memory registry.
func TestRun(t *testing.T) {
	if err := run(t.Context()); err != nil {
		t.Fatalf("quickstart: %v", err)
	}
}

// TestImageValid checks the images the quickstart pushes end to end.
func TestImageValid(t *testing.T) {
	for _, v := range []string{"1.0", "2.0"} {
		img, err := appImage("myapp", v)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(t.Context(), img); err != nil {
			t.Errorf("appImage(%s): %v", v, err)
		}
	}
}
