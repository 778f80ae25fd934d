package registry_test

import (
	"fmt"
	"log"

	"github.com/regkit/regkit/registry"
)

func ExampleOpenTag() {
	// No I/O yet: the tag's methods (Resolve, Image, Point, …) make requests,
	// to registry-1.docker.io for a Docker Hub reference.
	tg, err := registry.OpenTag("ubuntu")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tg.Repository(), tg.Name())

	tg, err = registry.OpenTag("ghcr.io/org/app:1.0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tg.Repository(), tg.Name())
	// Output:
	// library/ubuntu latest
	// org/app 1.0
}
