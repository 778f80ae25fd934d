package fake

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/image"
	"github.com/regkit/regkit/transport"
)

func TestPutManifestInvalid(t *testing.T) {
	t.Parallel()
	s := NewStore()
	cfg := putBlob(t, s, "repo", []byte("{}"))
	good := manifestJSON(t, ocispec.Manifest{Config: cfg})
	bad := ocispec.Descriptor{Digest: "sha256:nothex", Size: 1}
	tests := []struct {
		name      string
		mediaType string
		body      string
	}{
		{name: "not JSON", mediaType: ocispec.MediaTypeImageManifest, body: "{"},
		{name: "JSON array", mediaType: ocispec.MediaTypeImageManifest, body: "[]"},
		{name: "JSON null", mediaType: ocispec.MediaTypeImageManifest, body: "null"},
		{name: "schema 1", mediaType: ocispec.MediaTypeImageManifest, body: strings.Replace(string(good), `"schemaVersion":2`, `"schemaVersion":1`, 1)},
		{name: "media type differs from body", mediaType: ocispec.MediaTypeImageIndex, body: string(good)},
		{name: "unsupported media type", mediaType: "application/vnd.docker.distribution.manifest.v1+json",
			body: `{"schemaVersion":2}`},
		{name: "wrong field type", mediaType: ocispec.MediaTypeImageManifest, body: `{"schemaVersion":2,"layers":"x"}`},
		{name: "index with wrong field type", mediaType: ocispec.MediaTypeImageIndex, body: `{"schemaVersion":2,"manifests":{}}`},
		{name: "no config", mediaType: ocispec.MediaTypeImageManifest, body: `{"schemaVersion":2,"manifests":[]}`},
		{name: "bad layer digest", mediaType: ocispec.MediaTypeImageManifest,
			body: string(manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{bad}}))},
		{name: "negative layer size", mediaType: ocispec.MediaTypeImageManifest,
			body: string(manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{{Digest: cfg.Digest, Size: -1}}}))},
		{name: "bad subject", mediaType: ocispec.MediaTypeImageManifest,
			body: string(manifestJSON(t, ocispec.Manifest{Config: cfg, Subject: &bad}))},
		{name: "bad child", mediaType: ocispec.MediaTypeImageIndex,
			body: string(indexJSON(t, ocispec.Index{Manifests: []ocispec.Descriptor{bad}}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.PutManifest(t.Context(), "repo", "latest", tc.mediaType, []byte(tc.body), nil)
			checkErr(t, "PutManifest", err, transport.ErrManifestInvalid)
		})
	}
	tags, err := s.ListTags(t.Context(), "repo", transport.PageRequest{})
	if err != nil || len(tags.Items) != 0 || len(s.repos["repo"].manifests) != 0 {
		t.Errorf("invalid manifests were stored: tags %v (%v), %d manifests", tags.Items, err, len(s.repos["repo"].manifests))
	}
}

func TestPutManifestMediaTypes(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	child, _ := pushImage(t, s, "repo", "child", "")
	cfg := putBlob(t, s, "repo", []byte("{}"))
	bare := func(body string) string { // drops the mediaType field
		return strings.Replace(body, `"mediaType":"`+ocispec.MediaTypeImageManifest+`",`, "", 1)
	}
	tests := []struct {
		name      string
		mediaType string // argument
		body      string
		want      string // media type stored
	}{
		{name: "OCI manifest", mediaType: ocispec.MediaTypeImageManifest,
			body: string(manifestJSON(t, ocispec.Manifest{Config: cfg})), want: ocispec.MediaTypeImageManifest},
		{name: "Docker manifest", mediaType: image.MediaTypeDockerManifest,
			body: string(manifestJSON(t, ocispec.Manifest{MediaType: image.MediaTypeDockerManifest, Config: cfg})), want: image.MediaTypeDockerManifest},
		{name: "OCI index", mediaType: ocispec.MediaTypeImageIndex,
			body: string(indexJSON(t, ocispec.Index{Manifests: []ocispec.Descriptor{child}})), want: ocispec.MediaTypeImageIndex},
		{name: "Docker list", mediaType: image.MediaTypeDockerManifestList,
			body: string(indexJSON(t, ocispec.Index{MediaType: image.MediaTypeDockerManifestList, Manifests: []ocispec.Descriptor{child}})), want: image.MediaTypeDockerManifestList},
		{name: "from the body", body: string(manifestJSON(t, ocispec.Manifest{MediaType: image.MediaTypeDockerManifest, Config: cfg})),
			want: image.MediaTypeDockerManifest},
		{name: "body without media type", mediaType: ocispec.MediaTypeImageManifest,
			body: bare(string(manifestJSON(t, ocispec.Manifest{Config: cfg, Annotations: map[string]string{"a": "1"}}))),
			want: ocispec.MediaTypeImageManifest},
		{name: "guessed manifest", body: bare(string(manifestJSON(t, ocispec.Manifest{Config: cfg, Annotations: map[string]string{"a": "2"}}))),
			want: ocispec.MediaTypeImageManifest},
		{name: "guessed index", body: `{"schemaVersion":2,"manifests":[]}`, want: ocispec.MediaTypeImageIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tag := strings.ReplaceAll(tc.name, " ", "-")
			desc, err := s.PutManifest(ctx, "repo", tag, tc.mediaType, []byte(tc.body), nil)
			checkErr(t, "PutManifest", err, nil)
			if desc.MediaType != tc.want || desc.Digest != digest.FromString(tc.body) || desc.Size != int64(len(tc.body)) {
				t.Errorf("PutManifest = %+v, want %s %s %d", desc, tc.want, digest.FromString(tc.body), len(tc.body))
			}
			got, body, err := s.GetManifest(ctx, "repo", tag)
			checkErr(t, "GetManifest", err, nil)
			if got.MediaType != tc.want || string(body) != tc.body {
				t.Errorf("GetManifest = %s %q, want %s %q", got.MediaType, body, tc.want, tc.body)
			}
		})
	}
}

func TestPutManifestReferences(t *testing.T) {
	t.Parallel()
	s := NewStore()
	cfg := putBlob(t, s, "repo", []byte(`{"config":1}`))
	layer := putBlob(t, s, "repo", []byte("layer"))
	missing := descOf(digest.SHA256, []byte("missing"))
	child, _ := pushImage(t, s, "repo", "child", "")
	foreign := func(edit func(*ocispec.Descriptor)) ocispec.Descriptor {
		d := missing
		edit(&d)
		return d
	}
	elsewhere := putBlob(t, s, "other", []byte("other repository's blob"))
	tests := []struct {
		name, repo, mediaType string
		body                  []byte
		wantErr               error
		wantMissing           digest.Digest
	}{
		{name: "all present", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}})},
		{name: "missing config", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: missing, Layers: []ocispec.Descriptor{layer}}),
			wantErr: transport.ErrManifestBlobUnknown, wantMissing: missing.Digest},
		{name: "missing layer", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer, missing}}),
			wantErr: transport.ErrManifestBlobUnknown, wantMissing: missing.Digest},
		{name: "layer of another repository", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{elsewhere}}),
			wantErr: transport.ErrManifestBlobUnknown, wantMissing: elsewhere.Digest},
		{name: "new repository", repo: "new", body: manifestJSON(t, ocispec.Manifest{Config: cfg}),
			wantErr: transport.ErrManifestBlobUnknown, wantMissing: cfg.Digest},
		{name: "layer with urls", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{
			foreign(func(d *ocispec.Descriptor) { d.URLs = []string{"https://example.com/layer"} })}})},
		{name: "Docker foreign layer", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{
			foreign(func(d *ocispec.Descriptor) { d.MediaType = image.MediaTypeDockerForeignLayer })}})},
		{name: "OCI non-distributable layer", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{
			foreign(func(d *ocispec.Descriptor) {
				d.MediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
			})}})},
		{name: "index", repo: "repo", mediaType: ocispec.MediaTypeImageIndex, body: indexJSON(t, ocispec.Index{Manifests: []ocispec.Descriptor{child}})},
		{name: "index with missing child", repo: "repo", mediaType: ocispec.MediaTypeImageIndex,
			body:    indexJSON(t, ocispec.Index{Manifests: []ocispec.Descriptor{child, missing}}),
			wantErr: transport.ErrManifestBlobUnknown, wantMissing: missing.Digest},
		{name: "index of a blob", repo: "repo", mediaType: ocispec.MediaTypeImageIndex,
			body:    indexJSON(t, ocispec.Index{Manifests: []ocispec.Descriptor{layer}}),
			wantErr: transport.ErrManifestBlobUnknown, wantMissing: layer.Digest},
		{name: "subject need not exist", repo: "repo", body: manifestJSON(t, ocispec.Manifest{Config: cfg, Subject: &missing})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			mt := tc.mediaType
			if mt == "" {
				mt = ocispec.MediaTypeImageManifest
			}
			tag := strings.ReplaceAll(tc.name, " ", "-")
			_, err := s.PutManifest(ctx, tc.repo, tag, mt, tc.body, nil)
			checkErr(t, "PutManifest", err, tc.wantErr)
			_, gerr := s.HeadManifest(ctx, tc.repo, digest.FromBytes(tc.body).String())
			if tc.wantErr == nil {
				checkErr(t, "HeadManifest", gerr, nil)
				return
			}
			if !strings.Contains(err.Error(), tc.wantMissing.String()) {
				t.Errorf("PutManifest error %q does not name %s", err, tc.wantMissing)
			}
			if gerr == nil {
				t.Error("a refused manifest is stored")
			}
			if _, err := s.HeadManifest(ctx, tc.repo, tag); err == nil {
				t.Error("a refused manifest is tagged")
			}
		})
	}
}

func TestPutManifestByDigest(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	cfg := putBlobAlg(t, s, "repo", digest.SHA512, []byte(`{"sha512":true}`))
	layer := putBlobAlg(t, s, "repo", digest.SHA512, pattern(chunkSize+9))
	body := manifestJSON(t, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}, ArtifactType: "application/x.test"})
	tests := []struct {
		name, ref string
		want      digest.Digest
		wantErr   error
	}{
		{name: "sha512", ref: digest.SHA512.FromBytes(body).String(), want: digest.SHA512.FromBytes(body)},
		{name: "sha256", ref: digest.SHA256.FromBytes(body).String(), want: digest.SHA256.FromBytes(body)},
		{name: "tag stores sha256", ref: "v1", want: digest.SHA256.FromBytes(body)},
		{name: "wrong digest", ref: digest.SHA256.FromString("other").String(), wantErr: transport.ErrDigestInvalid},
		{name: "wrong sha512 digest", ref: digest.SHA512.FromString("other").String(), wantErr: transport.ErrDigestInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			desc, err := s.PutManifest(ctx, "repo", tc.ref, ocispec.MediaTypeImageManifest, body, nil)
			checkErr(t, "PutManifest", err, tc.wantErr)
			if err != nil {
				_, err := s.HeadManifest(ctx, "repo", tc.ref)
				checkErr(t, "HeadManifest after a refused put", err, transport.ErrManifestUnknown)
				return
			}
			if desc.Digest != tc.want || desc.ArtifactType != "application/x.test" {
				t.Errorf("PutManifest = %s (artifactType %q), want %s", desc.Digest, desc.ArtifactType, tc.want)
			}
			got, b, err := s.GetManifest(ctx, "repo", tc.want.String())
			checkErr(t, "GetManifest", err, nil)
			if !sameDesc(got, desc) || !bytes.Equal(b, body) {
				t.Errorf("GetManifest(%s) = %+v, want %+v and the body put", tc.want, got, desc)
			}
		})
	}
}

func TestPutManifestIfMatch(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	v1, _ := pushImage(t, s, "repo", "v1", "latest")
	v2, body2 := pushImage(t, s, "repo", "v2", "")
	v3, body3 := pushImage(t, s, "repo", "v3", "")
	ifMatch := func(d digest.Digest) *transport.PutManifestOptions { return &transport.PutManifestOptions{IfMatch: d} }

	steps := []struct {
		name, ref string
		body      []byte
		opts      *transport.PutManifestOptions
		wantErr   error
		wantTag   digest.Digest // where latest points afterwards
	}{
		{name: "stale", ref: "latest", body: body2, opts: ifMatch(v3.Digest), wantErr: transport.ErrPreconditionFailed, wantTag: v1.Digest},
		{name: "new tag", ref: "new", body: body2, opts: ifMatch(v1.Digest), wantErr: transport.ErrPreconditionFailed, wantTag: v1.Digest},
		{name: "current", ref: "latest", body: body2, opts: ifMatch(v1.Digest), wantTag: v2.Digest},
		{name: "now stale", ref: "latest", body: body3, opts: ifMatch(v1.Digest), wantErr: transport.ErrPreconditionFailed, wantTag: v2.Digest},
		{name: "ignored for digests", ref: v3.Digest.String(), body: body3, opts: ifMatch(v1.Digest), wantTag: v2.Digest},
		{name: "empty is unconditional", ref: "latest", body: body3, opts: &transport.PutManifestOptions{}, wantTag: v3.Digest},
	}
	for _, st := range steps { // in order: each step moves the tag
		t.Run(st.name, func(t *testing.T) {
			_, err := s.PutManifest(ctx, "repo", st.ref, ocispec.MediaTypeImageManifest, st.body, st.opts)
			checkErr(t, "PutManifest", err, st.wantErr)
			got, err := s.HeadManifest(ctx, "repo", "latest")
			checkErr(t, "HeadManifest(latest)", err, nil)
			if got.Digest != st.wantTag {
				t.Errorf("latest points at %s, want %s", got.Digest, st.wantTag)
			}
		})
	}
	if _, err := s.HeadManifest(ctx, "repo", "new"); err == nil {
		t.Error("a failed conditional put created its tag")
	}
}

func TestGetManifestErrors(t *testing.T) {
	t.Parallel()
	s := NewStore()
	desc, body := pushImage(t, s, "repo", "get", "latest")
	tests := []struct {
		name, repo, ref string
		want            error
		wantMsg         string
	}{
		{name: "by tag", repo: "repo", ref: "latest"},
		{name: "by digest", repo: "repo", ref: desc.Digest.String()},
		{name: "unknown tag", repo: "repo", ref: "v9", want: transport.ErrManifestUnknown,
			wantMsg: `manifest unknown: tag "v9" not found in repository "repo"`},
		{name: "unknown digest", repo: "repo", ref: digest.FromString("x").String(), want: transport.ErrManifestUnknown,
			wantMsg: `manifest unknown: manifest ` + digest.FromString("x").String() + ` not found in repository "repo"`},
		{name: "unknown repository", repo: "nope", ref: "latest", want: transport.ErrNameUnknown,
			wantMsg: `name unknown: repository "nope" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, b, err := s.GetManifest(t.Context(), tc.repo, tc.ref)
			checkErr(t, "GetManifest", err, tc.want)
			head, herr := s.HeadManifest(t.Context(), tc.repo, tc.ref)
			checkErr(t, "HeadManifest", herr, tc.want)
			if tc.want != nil {
				if err.Error() != tc.wantMsg {
					t.Errorf("GetManifest error = %q, want %q", err, tc.wantMsg)
				}
				return
			}
			if !sameDesc(got, desc) || !sameDesc(head, desc) || !bytes.Equal(b, body) {
				t.Errorf("GetManifest = %+v, Head = %+v; want %+v and the exact body", got, head, desc)
			}
			b[0] = 'X' // the caller owns the bytes returned
			if _, again, _ := s.GetManifest(t.Context(), tc.repo, tc.ref); !bytes.Equal(again, body) {
				t.Error("changing the returned body changed the stored manifest")
			}
		})
	}
}

func TestDeleteManifest(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	subject, _ := pushImage(t, s, "repo", "subject", "keep")
	desc, body := pushImage(t, s, "repo", "deleted", "")
	// "moved" points at the deleted manifest, then at the subject: deleting
	// the first must keep it. "c" is put after the manifest is stored.
	_, sbody, err := s.GetManifest(ctx, "repo", "keep")
	checkErr(t, "GetManifest(keep)", err, nil)
	for _, put := range []struct {
		tag  string
		body []byte
	}{{"a", body}, {"b", body}, {"moved", body}, {"moved", sbody}, {"c", body}} {
		if _, err := s.PutManifest(ctx, "repo", put.tag, ocispec.MediaTypeImageManifest, put.body, nil); err != nil {
			t.Fatal(err)
		}
	}
	cfg := putBlob(t, s, "repo", []byte("{}"))
	sig := manifestJSON(t, ocispec.Manifest{Config: cfg, Subject: &subject, ArtifactType: "application/x.sig"})
	sigDesc, err := s.PutManifest(ctx, "repo", "sig", ocispec.MediaTypeImageManifest, sig, nil)
	checkErr(t, "PutManifest(sig)", err, nil)

	steps := []struct {
		name, repo, ref string
		want            error
		gone, kept      []string // refs that must be unknown, and known, afterwards
	}{
		{name: "unknown repository", repo: "nope", ref: "a", want: transport.ErrNameUnknown},
		{name: "unknown tag", repo: "repo", ref: "zzz", want: transport.ErrManifestUnknown},
		{name: "unknown digest", repo: "repo", ref: digest.FromString("x").String(), want: transport.ErrManifestUnknown},
		{name: "tag only", repo: "repo", ref: "a", gone: []string{"a"}, kept: []string{"b", desc.Digest.String()}},
		{name: "digest and its tags", repo: "repo", ref: desc.Digest.String(), gone: []string{"b", "c", desc.Digest.String()}, kept: []string{"keep", "moved", "sig"}},
		{name: "referrer", repo: "repo", ref: sigDesc.Digest.String(), gone: []string{"sig"}, kept: []string{"keep"}},
	}
	for _, st := range steps { // in order
		t.Run(st.name, func(t *testing.T) {
			checkErr(t, "DeleteManifest", s.DeleteManifest(ctx, st.repo, st.ref), st.want)
			for _, ref := range st.gone {
				_, err := s.HeadManifest(ctx, st.repo, ref)
				checkErr(t, "HeadManifest("+ref+")", err, transport.ErrManifestUnknown)
			}
			for _, ref := range st.kept {
				_, err := s.HeadManifest(ctx, st.repo, ref)
				checkErr(t, "HeadManifest("+ref+")", err, nil)
			}
		})
	}
	tags, err := s.ListTags(ctx, "repo", transport.PageRequest{})
	if err != nil || !slices.Equal(tags.Items, []string{"keep", "moved"}) {
		t.Errorf("ListTags after the deletes = %v, %v; want [keep moved]", tags.Items, err)
	}
	page, err := s.ListReferrers(ctx, "repo", subject.Digest, "", transport.PageRequest{})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("ListReferrers after deleting the referrer = %v, %v; want none", page.Items, err)
	}
	if len(s.repos["repo"].referrers) != 0 {
		t.Errorf("referrers index keeps %d empty subjects", len(s.repos["repo"].referrers))
	}
}
