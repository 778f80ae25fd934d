package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/regkit/regkit/image/validate"
	"github.com/regkit/regkit/registry/fake"
)

// TestRun builds and pushes the app, then checks what was pushed end to
// end: each platform's layers decompress to the diff_ids its config names,
// and the file read back is the one the app directory held.
func TestRun(t *testing.T) {
	reg := fake.New()
	var out bytes.Buffer
	if err := run(t.Context(), reg, &out); err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"an index of 2 platforms",
		"/app/hello.txt: hello from myapp",
		"/etc/os-release: ID=base ARCH=arm64",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, name := range []string{"library/base", "myapp"} {
		repo := reg.Repository(name)
		desc, err := repo.Resolve(t.Context(), "1.0")
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Manifest(t.Context(), repo, desc); err != nil {
			t.Errorf("%s:1.0 is not valid: %v", name, err)
		}
	}
}
