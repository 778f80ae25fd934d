package ocilayout

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/regkit/regkit/internal/backend"
	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// DeleteManifest deletes what ref names in repo. For a digest it removes
// every index.json entry of the manifest (its tags), then its blob file;
// for a tag, only the tag's entry (a manifest left with no tag stays listed,
// untagged). It fails with NAME_UNKNOWN for an unknown repository and
// MANIFEST_UNKNOWN for an unknown ref.
func (s *Store) DeleteManifest(ctx context.Context, repo, ref string) error {
	if err := s.begin(ctx, repo); err != nil {
		return err
	}
	tag, d, err := spec.ParseRef(ref)
	if err != nil {
		return err
	}
	if err := s.flush(s.batchOf(ctx, repo)); err != nil {
		return err
	}
	if tag != "" {
		return s.deleteTag(repo, tag)
	}
	unlock, err := s.lock(repo)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.openRepo(repo); err != nil {
		return err
	}
	ix, err := s.readIndex(repo)
	if err != nil {
		return err
	}
	if ix.removeDigest(d) {
		if err := s.writeIndex(repo, ix); err != nil {
			return err
		}
	} else if _, _, err := s.readUnlisted(repo, d); err != nil {
		return err
	}
	if err := s.root.Remove(s.blobPath(repo, d)); err != nil && !isNotExist(err) {
		return fmt.Errorf("repository %q: %w", repo, err)
	}
	return s.syncDir(filepath.Dir(s.blobPath(repo, d)))
}

// DeleteTag removes tag from repo's index.json, leaving the manifest it
// pointed at and the manifest's other tags; a manifest left with no tag
// stays listed, untagged. It fails with TAG_INVALID for a malformed tag,
// NAME_UNKNOWN for an unknown repository and MANIFEST_UNKNOWN for an unknown
// tag, and otherwise reports [transport.TagDeleted].
func (s *Store) DeleteTag(ctx context.Context, repo, tag string) (transport.TagDeletion, error) {
	if err := s.begin(ctx, repo); err != nil {
		return 0, err
	}
	if err := spec.CheckTag(tag); err != nil {
		return 0, err
	}
	if err := s.flush(s.batchOf(ctx, repo)); err != nil {
		return 0, err
	}
	if err := s.deleteTag(repo, tag); err != nil {
		return 0, err
	}
	return transport.TagDeleted, nil
}

func (s *Store) deleteTag(repo, tag string) error {
	unlock, err := s.lock(repo)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.openRepo(repo); err != nil {
		return err
	}
	ix, err := s.readIndex(repo)
	if err != nil {
		return err
	}
	if !ix.removeTag(tag) {
		return backend.TagUnknown(repo, tag)
	}
	return s.writeIndex(repo, ix)
}
