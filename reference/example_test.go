package reference_test

import (
	"errors"
	"fmt"

	"github.com/regkit/regkit/reference"
)

func ExampleParse() {
	r, err := reference.Parse("ubuntu")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Registry)
	fmt.Println(r.Repository)
	fmt.Println(r.Tag)
	fmt.Println(r)
	fmt.Println(r.Familiar())

	r = reference.MustParse("localhost:5000/myapp1:3.0")
	fmt.Println(r.Name(), r.Ref())
	// Output:
	// docker.io
	// library/ubuntu
	// latest
	// docker.io/library/ubuntu:latest
	// ubuntu:latest
	// localhost:5000/myapp1 3.0
}

func ExampleParse_error() {
	_, err := reference.Parse("ghcr.io/Foo/bar")
	fmt.Println(err)
	fmt.Println(errors.Is(err, reference.ErrUppercase))
	fmt.Println(errors.Is(err, reference.ErrInvalidRepository))

	var re *reference.Error
	if errors.As(err, &re) {
		fmt.Println(re.Part)
	}
	// Output:
	// invalid reference "ghcr.io/Foo/bar": repository: must be lower case
	// true
	// true
	// repository
}

func ExampleParseRepository() {
	r, err := reference.ParseRepository("amouat/revealjs")
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	fmt.Println(r.Familiar())
	tagged, err := r.WithTag("3.0")
	if err != nil {
		panic(err)
	}
	fmt.Println(tagged)
	// Output:
	// docker.io/amouat/revealjs
	// amouat/revealjs
	// docker.io/amouat/revealjs:3.0
}

func ExampleReference_Ref() {
	r := reference.MustParse("ghcr.io/org/app:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	fmt.Println(r.Ref())
	fmt.Println(r.Tag)
	// Output:
	// sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	// 1.2
}
