package fake

import (
	"bytes"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/transport"
)

func TestUploadCommit(t *testing.T) {
	t.Parallel()
	data := pattern(chunkSize + 321)
	tests := []struct {
		name    string
		want    func() ocispec.Descriptor
		wantErr error
	}{
		{name: "sha256", want: func() ocispec.Descriptor { return descOf(digest.SHA256, data) }},
		{name: "sha512", want: func() ocispec.Descriptor { return descOf(digest.SHA512, data) }},
		{name: "unknown size", want: func() ocispec.Descriptor {
			d := descOf(digest.SHA384, data)
			d.Size = 0
			return d
		}},
		{name: "wrong digest", want: func() ocispec.Descriptor {
			return ocispec.Descriptor{Digest: digest.SHA256.FromBytes(data[1:]), Size: int64(len(data))}
		}, wantErr: transport.ErrDigestInvalid},
		{name: "wrong sha512 digest", want: func() ocispec.Descriptor {
			return ocispec.Descriptor{Digest: digest.SHA512.FromString("x")}
		}, wantErr: transport.ErrDigestInvalid},
		{name: "wrong size", want: func() ocispec.Descriptor {
			d := descOf(digest.SHA256, data)
			d.Size++
			return d
		}, wantErr: transport.ErrSizeInvalid},
		{name: "negative size", want: func() ocispec.Descriptor {
			d := descOf(digest.SHA256, data)
			d.Size = -1
			return d
		}, wantErr: transport.ErrSizeInvalid},
		{name: "malformed digest", want: func() ocispec.Descriptor {
			return ocispec.Descriptor{Digest: "sha256:short", Size: int64(len(data))}
		}, wantErr: transport.ErrDigestInvalid},
	}
	for _, m := range modes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := m.store()
				ctx := t.Context()
				w, err := s.StartUpload(ctx, "repo")
				checkErr(t, "StartUpload", err, nil)
				if len(w.ID()) != 32 {
					t.Errorf("ID() = %q, want 32 hex digits", w.ID())
				}
				// Write in two sessions: the second resumes by ID.
				if _, err := w.Write(data[:1000]); err != nil {
					t.Fatal(err)
				}
				w2, err := s.ResumeUpload(ctx, "repo", w.ID())
				checkErr(t, "ResumeUpload", err, nil)
				if w2.Size() != 1000 {
					t.Errorf("Size() of resumed session = %d, want 1000", w2.Size())
				}
				if _, err := io.Copy(w2, bytes.NewReader(data[1000:])); err != nil {
					t.Fatal(err)
				}
				want := tc.want()
				err = w2.Commit(ctx, want)
				checkErr(t, "Commit", err, tc.wantErr)
				if s.Uploads() != 0 {
					t.Errorf("Uploads() = %d after Commit, want 0", s.Uploads())
				}
				_, err = s.ResumeUpload(ctx, "repo", w.ID())
				checkErr(t, "ResumeUpload after Commit", err, transport.ErrBlobUploadUnknown)
				_, err = w.Write([]byte("more"))
				checkErr(t, "Write after Commit", err, transport.ErrBlobUploadUnknown)
				checkErr(t, "Commit again", w.Commit(ctx, want), transport.ErrBlobUploadUnknown)
				checkErr(t, "Cancel after Commit", w.Cancel(ctx), transport.ErrBlobUploadUnknown)
				if tc.wantErr != nil {
					if s.BlobCount() != 0 {
						t.Errorf("BlobCount() = %d after a failed Commit, want 0", s.BlobCount())
					}
					_, err := s.ListTags(ctx, "repo", transport.PageRequest{})
					checkErr(t, "repository after a failed Commit", err, transport.ErrNameUnknown)
					return
				}
				rc, desc, err := s.GetBlob(ctx, "repo", want.Digest)
				checkErr(t, "GetBlob", err, nil)
				got, _ := io.ReadAll(rc)
				if desc.Size != int64(len(data)) || !bytes.Equal(got, data) {
					t.Errorf("committed blob has %d bytes (size %d), want the %d written", len(got), desc.Size, len(data))
				}
				checkChunks(t, s.blobs[want.Digest].data)
			})
		}
	}
}

func TestUploadCancel(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	w, err := s.StartUpload(ctx, "repo")
	checkErr(t, "StartUpload", err, nil)
	other, err := s.StartUpload(ctx, "repo")
	checkErr(t, "StartUpload", err, nil)
	if w.ID() == other.ID() {
		t.Fatalf("two sessions share the ID %q", w.ID())
	}
	if s.Uploads() != 2 {
		t.Errorf("Uploads() = %d, want 2", s.Uploads())
	}
	if _, err := w.Write([]byte("staged")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StatBlob(ctx, "repo", digest.FromString("staged")); err == nil {
		t.Error("staged bytes are visible before Commit")
	}
	checkErr(t, "Cancel", w.Cancel(ctx), nil)
	checkErr(t, "Cancel again", w.Cancel(ctx), transport.ErrBlobUploadUnknown)
	_, err = w.Write([]byte("x"))
	checkErr(t, "Write after Cancel", err, transport.ErrBlobUploadUnknown)
	_, err = s.ResumeUpload(ctx, "repo", w.ID())
	checkErr(t, "ResumeUpload after Cancel", err, transport.ErrBlobUploadUnknown)
	if s.Uploads() != 1 || s.BlobCount() != 0 {
		t.Errorf("after Cancel: %d uploads, %d blobs; want 1, 0", s.Uploads(), s.BlobCount())
	}
}

func TestResumeUploadErrors(t *testing.T) {
	t.Parallel()
	s := NewStore()
	w, err := s.StartUpload(t.Context(), "repo")
	checkErr(t, "StartUpload", err, nil)
	tests := []struct {
		name, repo, id string
		want           error
	}{
		{name: "found", repo: "repo", id: w.ID()},
		{name: "unknown id", repo: "repo", id: "0123", want: transport.ErrBlobUploadUnknown},
		{name: "other repository", repo: "other", id: w.ID(), want: transport.ErrBlobUploadUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.ResumeUpload(t.Context(), tc.repo, tc.id)
			checkErr(t, "ResumeUpload", err, tc.want)
			if err == nil && got.ID() != w.ID() {
				t.Errorf("ResumeUpload returned session %q, want %q", got.ID(), w.ID())
			}
		})
	}
}

func TestUploadCommitSharesExistingBlob(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	data := []byte("shared by upload")
	desc := putBlob(t, s, "a", data)
	first := s.blobs[desc.Digest].data
	w, err := s.StartUpload(ctx, "b")
	checkErr(t, "StartUpload", err, nil)
	w.Write(data)
	checkErr(t, "Commit", w.Commit(ctx, desc), nil)
	if s.BlobCount() != 1 || s.blobs[desc.Digest].data != first {
		t.Errorf("Commit of a stored blob made a second copy (%d blobs)", s.BlobCount())
	}
	if _, err := s.StatBlob(ctx, "b", desc.Digest); err != nil {
		t.Errorf("StatBlob(b) = %v", err)
	}
}

func TestUploadCommitEmpty(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	w, err := s.StartUpload(ctx, "repo")
	checkErr(t, "StartUpload", err, nil)
	empty := descOf(digest.SHA512, nil)
	checkErr(t, "Commit(empty)", w.Commit(ctx, empty), nil)
	rc, desc, err := s.GetBlob(ctx, "repo", empty.Digest)
	checkErr(t, "GetBlob(empty)", err, nil)
	if b, err := io.ReadAll(rc); err != nil || len(b) != 0 || desc.Size != 0 {
		t.Errorf("empty blob reads %d bytes (%v), size %d", len(b), err, desc.Size)
	}
}
