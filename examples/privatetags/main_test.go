package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/regkit/regkit/image/validate"
)

// TestSeedImageValid checks the image the example pushes end to end.
func TestSeedImageValid(t *testing.T) {
	img, err := seedImage()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(t.Context(), img); err != nil {
		t.Fatal(err)
	}
}

// TestRun runs the example: it must log in, be refused anonymously and list
// the three tags with the saved credential.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, ""); err != nil {
		t.Fatalf("privatetags: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"logged in as ci", "anonymous listing refused", "  1.0\n  1.1\n  latest\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, ci.Password) {
		t.Errorf("output shows the password:\n%s", got)
	}
}
