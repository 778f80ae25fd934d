package regkit_test

import (
	"context"
	"fmt"
	"log"

	"github.com/regkit/regkit"
	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/tag"
)

func ExampleMirror() {
	ctx := context.Background()
	upstream, mirror := fake.New(), fake.New()
	src := upstream.Repository("myapp1")
	for _, v := range []string{"1.0", "1.1", "2.0", "latest"} {
		img, err := image.New(image.BytesBlob("application/vnd.oci.image.config.v1+json", []byte(`{"v":"`+v+`"}`)), nil, nil)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := src.Push(ctx, img, v); err != nil {
			log.Fatal(err)
		}
	}

	// The 1.x releases, with their referrers.
	dst := mirror.Repository("mirror/myapp1")
	opts := &regkit.MirrorOptions{Versions: ">=1.0, <2.0"}
	rep, err := regkit.Mirror(ctx, src, dst, opts)
	if err != nil {
		log.Fatal(err) // errors.Join of the tags that failed; rep says which
	}
	for _, t := range rep.Tags {
		fmt.Println(t.Tag, t.Action)
	}
	fmt.Println("left out:", rep.Unselected)

	// A second run finds them up to date: one HEAD per tag on each side.
	rep, err = regkit.Mirror(ctx, src, dst, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("up to date:", rep.Count(regkit.MirrorUpToDate))

	// Fallback tags of the referrers tag schema name no image.
	fmt.Println(tag.IsReferrersFallback("sha256-" + rep.Tags[0].Digest.Encoded()))
	// Output:
	// 1.0 copied
	// 1.1 copied
	// left out: [2.0 latest]
	// up to date: 2
	// true
}
