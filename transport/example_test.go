package transport_test

import (
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// logged is a decorator that logs the manifests put through it and passes
// every call on to the transport it wraps.
type logged struct{ transport.Transport }

// PutManifest logs the put, then makes it.
func (l logged) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte, opts *transport.PutManifestOptions) (ocispec.Descriptor, error) {
	log.Printf("put manifest %s:%s", repo, ref)
	return l.Transport.PutManifest(ctx, repo, ref, mediaType, body, opts)
}

// Unwrap returns the wrapped transport, so that its optional interfaces
// stay reachable through the decorator.
func (l logged) Unwrap() transport.Transport { return l.Transport }

func ExampleFind() {
	c, err := remote.New("registry.example")
	if err != nil {
		log.Fatal(err)
	}
	var t transport.Transport = logged{c}

	// The client's origin, found under the decorator.
	if o, ok := transport.Find[transport.Originer](t); ok {
		fmt.Println(o.Origin())
	}
	// A decorator without Unwrap hides it.
	_, ok := transport.Find[transport.Originer](struct{ transport.Transport }{c})
	fmt.Println(ok)
	// Output:
	// https://registry.example
	// false
}
