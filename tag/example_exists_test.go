package tag_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
)

// Exists costs one HEAD and answers false, without an error, for a tag that
// is not there, whether or not its repository exists. The methods that read
// the manifest report the same as transport.ErrManifestUnknown on every
// backend.
func ExampleTag_Exists() {
	ctx := context.Background()
	reg := fake.New()
	if _, err := reg.Repository("myapp1").Push(ctx, appImage("3.0"), "3.0"); err != nil {
		log.Fatal(err)
	}
	for _, ref := range []struct{ repo, tag string }{{"myapp1", "3.0"}, {"myapp1", "4.0"}, {"other", "3.0"}} {
		ok, err := reg.Repository(ref.repo).Tag(ref.tag).Exists(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s:%s exists: %v\n", ref.repo, ref.tag, ok)
	}
	_, err := reg.Repository("other").Tag("3.0").Image(ctx)
	fmt.Println("Image of other:3.0 is manifest unknown:", errors.Is(err, transport.ErrManifestUnknown))
	// Output:
	// myapp1:3.0 exists: true
	// myapp1:4.0 exists: false
	// other:3.0 exists: false
	// Image of other:3.0 is manifest unknown: true
}
