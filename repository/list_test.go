package repository_test

import (
	"errors"
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/repository"
	"github.com/regkit/regkit/transport"
)

// TestReferrersOptions checks that the paging settings of [repository.ListOptions]
// reach a referrers listing through ReferrersOptions, and that Last, which the
// referrers API cannot honour, is refused instead of ignored.
func TestReferrersOptions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	repo := fake.New().Repository("myapp1")
	app, err := repo.Push(ctx, platformImage("linux", "amd64", ""), "3.0")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		sig, err := image.New(image.BytesBlob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
			[]image.Blob{image.BytesBlob("application/x.sig", fmt.Appendf(nil, "sig %d", i))},
			&image.Options{ArtifactType: "application/x.sig", Subject: &app})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Push(ctx, sig); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		opts    *repository.ReferrersOptions
		want    int
		wantErr error
	}{
		{name: "nil", want: 3},
		{name: "all in pages of 1", opts: &repository.ReferrersOptions{ListOptions: repository.ListOptions{PageSize: 1}}, want: 3},
		{name: "page cap", opts: &repository.ReferrersOptions{ListOptions: repository.ListOptions{PageSize: 1, MaxPages: 2}}, want: 2, wantErr: transport.ErrTooManyPages},
		{name: "no page cap", opts: &repository.ReferrersOptions{ListOptions: repository.ListOptions{PageSize: 1, MaxPages: -1}}, want: 3},
		{name: "other type", opts: &repository.ReferrersOptions{ArtifactType: "application/spdx+json"}, want: 0},
		{name: "Last refused", opts: &repository.ReferrersOptions{ListOptions: repository.ListOptions{Last: "x"}}, wantErr: transport.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			var err error
			for _, e := range repo.Referrers(ctx, app.Digest, tc.opts) {
				if e != nil {
					err = e
					break
				}
				n++
			}
			if n != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Referrers(%+v) = %d descriptors, %v; want %d, %v", tc.opts, n, err, tc.want, tc.wantErr)
			}
		})
	}
}
