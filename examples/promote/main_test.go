package main

import (
	"bytes"
	"strings"
	"testing"
)

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
