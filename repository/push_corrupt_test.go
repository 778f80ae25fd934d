package repository_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/fake"
	"github.com/regkit/regkit/transport"
	"github.com/regkit/regkit/transport/remote"
)

// countingRT calls count with every request before sending it.
type countingRT struct {
	next  http.RoundTripper
	count func(*http.Request)
}

func (c countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count(r)
	return c.next.RoundTrip(r)
}

// TestPushBlobCorrupted checks what a push does when the registry finds the
// bytes it got corrupt: it sends them once more, checked as they leave, and
// either succeeds or says whose fault it was.
func TestPushBlobCorrupted(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("layer "), 10_000)
	good := image.BytesBlob(ocispec.MediaTypeImageLayer, content)
	// A blob whose bytes do not hash to its descriptor's digest.
	lying := image.NewBlob(good.Descriptor(), func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(bytes.ToUpper(content))), nil
	})
	tests := []struct {
		name        string
		blob        image.Blob
		faults      []fake.Fault
		wantErr     error  // nil: the push succeeds
		wantMsg     string // in the error
		wantUploads int    // PUTs of the upload, counted
	}{
		{name: "flipped once on the way", blob: good, faults: []fake.Fault{fake.FlipByte(100).On(http.MethodPut, fake.RouteUpload).Times(1)}, wantUploads: 2},
		{name: "truncated once on the way", blob: good, faults: []fake.Fault{fake.Truncate(100).On(http.MethodPut, fake.RouteUpload).Times(1)}, wantUploads: 2},
		{name: "flipped every time", blob: good, faults: []fake.Fault{fake.FlipByte(100).On(http.MethodPut, fake.RouteUpload)},
			wantErr: transport.ErrDigestInvalid, wantMsg: "put blob " + good.Descriptor().Digest.String(), wantUploads: 2},
		{name: "wrong at its source", blob: lying,
			wantErr: transport.ErrDigestInvalid, wantMsg: "blob as given to push: digest invalid: content hashes to " + digest.FromBytes(bytes.ToUpper(content)).String(), wantUploads: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fake.Serve(t, fake.WithFaults(tc.faults...))
			// Uploads are counted as the client sends them: the server may
			// log one the client cut short (the blob failed its check) only
			// after PushBlob returned.
			var uploads atomic.Int32
			rt := countingRT{next: http.DefaultTransport.(*http.Transport).Clone(), count: func(r *http.Request) {
				if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") {
					uploads.Add(1)
				}
			}}
			reg, err := registry.New(srv.Host, registry.WithClientOptions(remote.WithRoundTripper(rt)))
			if err != nil {
				t.Fatal(err)
			}
			repo := reg.Repository("app")
			err = repo.PushBlob(t.Context(), tc.blob)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("PushBlob = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
			if n := int(uploads.Load()); n != tc.wantUploads {
				t.Errorf("%d upload PUTs, want %d", n, tc.wantUploads)
			}
			// Whatever happened, the registry holds the right bytes or none.
			rc, err := repo.Blob(t.Context(), good.Descriptor())
			switch {
			case tc.wantErr != nil && !errors.Is(err, transport.ErrNotFound):
				t.Errorf("after a failed push, Blob = %v, want not found", err)
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Blob after the push: %v", err)
			case tc.wantErr == nil:
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || !bytes.Equal(got, content) {
					t.Errorf("stored blob: %d bytes, %v; want the content", len(got), err)
				}
			}
		})
	}
}
