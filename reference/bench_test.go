package reference_test

import (
	"testing"

	"github.com/regkit/regkit/reference"
)

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string // sub-benchmark name
		in   string // input to Parse
	}{
		{name: "familiar", in: "ubuntu"},
		{name: "host-port-tag", in: "myregistryhost:5000/namespace/repo-name:tag"},
		{name: "tag-digest", in: "ghcr.io/a/b:1@" + string(sha256)},
		{name: "invalid-tag", in: "ubuntu:ta$g"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = reference.Parse(bc.in)
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	r := reference.MustParse("ghcr.io/a/b:1@" + string(sha256))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.String()
	}
}

func TestRefAllocs(t *testing.T) {
	r := reference.MustParse("localhost:5000/myapp1:3.0")
	if n := testing.AllocsPerRun(100, func() { _ = r.Ref() }); n != 0 {
		t.Errorf("Ref() allocates %v times, want 0", n)
	}
}
