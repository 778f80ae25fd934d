package ocilayout_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/ocilayout"
	"github.com/regkit/regkit/transport"
)

func descOf(alg digest.Algorithm, p []byte) ocispec.Descriptor {
	return ocispec.Descriptor{Digest: alg.FromBytes(p), Size: int64(len(p))}
}

func TestUploadCommit(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("upload session "), 50000)
	tests := []struct {
		name    string
		want    ocispec.Descriptor
		wantErr error
	}{
		{name: "sha256", want: descOf(digest.SHA256, data)},
		{name: "sha512", want: descOf(digest.SHA512, data)},
		{name: "unknown size", want: ocispec.Descriptor{Digest: digest.SHA384.FromBytes(data)}},
		{name: "wrong digest", want: ocispec.Descriptor{Digest: digest.FromBytes(data[1:]), Size: int64(len(data))}, wantErr: transport.ErrDigestInvalid},
		{name: "wrong sha512 digest", want: ocispec.Descriptor{Digest: digest.SHA512.FromString("x")}, wantErr: transport.ErrDigestInvalid},
		{name: "wrong size", want: ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data)) + 1}, wantErr: transport.ErrSizeInvalid},
		{name: "negative size", want: ocispec.Descriptor{Digest: digest.FromBytes(data), Size: -1}, wantErr: transport.ErrSizeInvalid},
		{name: "malformed digest", want: ocispec.Descriptor{Digest: "sha256:short"}, wantErr: transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ctx := t.Context()
			w, err := s.StartUpload(ctx, "app")
			checkErr(t, "StartUpload", err, nil)
			if len(w.ID()) != 32 {
				t.Errorf("ID() = %q, want 32 hex digits", w.ID())
			}
			if _, err := w.Write(data[:1000]); err != nil {
				t.Fatal(err)
			}
			w2, err := s.ResumeUpload(ctx, "app", w.ID())
			checkErr(t, "ResumeUpload", err, nil)
			if _, err := w2.Write(data[1000:]); err != nil {
				t.Fatal(err)
			}
			if w2.Size() != int64(len(data)) {
				t.Fatalf("Size() = %d, want %d", w2.Size(), len(data))
			}
			checkErr(t, "Commit", w2.Commit(ctx, tc.want), tc.wantErr)
			_, err = s.StatBlob(ctx, "app", tc.want.Digest)
			if tc.wantErr == nil && err != nil {
				t.Errorf("StatBlob after Commit = %v", err)
			}
			if tc.wantErr != nil && err == nil {
				t.Error("a refused commit is visible")
			}
			if tmp := tempFiles(t, s.Dir()); len(tmp) != 0 {
				t.Errorf("temporary files left after Commit: %v", tmp)
			}
			if _, err := w.Write([]byte("x")); !errors.Is(err, transport.ErrBlobUploadUnknown) {
				t.Errorf("Write after Commit = %v, want ErrBlobUploadUnknown", err)
			}
			if err := w.Commit(ctx, tc.want); !errors.Is(err, transport.ErrBlobUploadUnknown) {
				t.Errorf("Commit again = %v, want ErrBlobUploadUnknown", err)
			}
			if _, err := s.ResumeUpload(ctx, "app", w.ID()); !errors.Is(err, transport.ErrBlobUploadUnknown) {
				t.Errorf("ResumeUpload after Commit = %v, want ErrBlobUploadUnknown", err)
			}
		})
	}
}

// TestUploadSurvivesRestart resumes a session of a Store that was closed,
// from a new Store over the same directory.
func TestUploadSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := []byte(strings.Repeat("bytes that outlive their process ", 1000))
	ctx := t.Context()
	first, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := first.StartUpload(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:100]); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[100:]); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("Write after Close = %v, want ErrBlobUploadUnknown", err)
	}
	if _, err := first.ResumeUpload(ctx, "app", w.ID()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ResumeUpload on a closed Store = %v, want os.ErrClosed", err)
	}

	second, err := ocilayout.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := second.ResumeUpload(ctx, "other", w.ID()); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("ResumeUpload(another repository) = %v, want ErrBlobUploadUnknown", err)
	}
	w2, err := second.ResumeUpload(ctx, "app", w.ID())
	if err != nil {
		t.Fatalf("ResumeUpload after a restart = %v", err)
	}
	if w2.Size() != 100 {
		t.Fatalf("resumed Size() = %d, want 100", w2.Size())
	}
	if _, err := w2.Write(data[100:]); err != nil {
		t.Fatal(err)
	}
	if err := w2.Commit(ctx, descOf(digest.SHA256, data)); err != nil {
		t.Fatalf("Commit = %v", err)
	}
	rc, _, err := second.GetBlob(ctx, "app", digest.FromBytes(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, data) {
		t.Errorf("committed blob = %d bytes, %v", len(got), err)
	}
}

func TestUploadCancel(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	w, err := s.StartUpload(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("discarded")); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Cancel(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Cancel(done context) = %v, want context.Canceled", err)
	}
	if err := w.Commit(cancelled, descOf(digest.SHA256, []byte("discarded"))); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit(done context) = %v, want context.Canceled", err)
	}
	if err := w.Cancel(ctx); err != nil {
		t.Fatalf("Cancel = %v", err)
	}
	if err := w.Cancel(ctx); !errors.Is(err, transport.ErrBlobUploadUnknown) {
		t.Errorf("Cancel again = %v, want ErrBlobUploadUnknown", err)
	}
	if tmp := tempFiles(t, s.Dir()); len(tmp) != 0 {
		t.Errorf("temporary files left after Cancel: %v", tmp)
	}
	if _, err := s.StartUpload(cancelled, "app"); !errors.Is(err, context.Canceled) {
		t.Errorf("StartUpload(done context) = %v", err)
	}
}

// TestResumeUploadIDs checks that an ID never names anything but a session
// of its repository.
func TestResumeUploadIDs(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	w, err := s.StartUpload(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, s, "app", []byte("x"))
	tests := []struct {
		name, repo, id string
	}{
		{name: "empty", repo: "app", id: ""},
		{name: "traversal", repo: "app", id: "../../../../etc/passwd"},
		{name: "traversal of the right length", repo: "app", id: "../index.json" + strings.Repeat("0", 19)},
		{name: "another file", repo: "app", id: "oci-layout"},
		{name: "upper case", repo: "app", id: strings.ToUpper(w.ID())},
		{name: "unknown", repo: "app", id: strings.Repeat("0", 32)},
		{name: "another repository", repo: "other", id: w.ID()},
		{name: "too long", repo: "app", id: w.ID() + "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.ResumeUpload(ctx, tc.repo, tc.id); !errors.Is(err, transport.ErrBlobUploadUnknown) {
				t.Errorf("ResumeUpload(%q, %q) = %v, want ErrBlobUploadUnknown", tc.repo, tc.id, err)
			}
		})
	}
	if _, err := s.ResumeUpload(ctx, "App", w.ID()); !errors.Is(err, transport.ErrNameInvalid) {
		t.Errorf("ResumeUpload(bad name) = %v, want ErrNameInvalid", err)
	}
}
