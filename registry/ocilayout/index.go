package ocilayout

import (
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/reference"
)

// This file edits the manifests list of an index.json. An entry is tagged
// when its org.opencontainers.image.ref.name annotation is a valid tag
// ("1.0", as skopeo and BuildKit write it) or a full reference with a tag
// and no digest ("docker.io/library/app:1.0", as some tools write it),
// and untagged when it has no such annotation. Entries whose ref.name is
// neither (a name without a tag, a reference by digest) are kept as they
// are, but are neither tags nor untagged entries.

// tagOf returns the tag of entry, if it has one.
func tagOf(entry ocispec.Descriptor) (string, bool) {
	name, ok := entry.Annotations[ocispec.AnnotationRefName]
	if !ok {
		return "", false
	}
	if reference.ValidateTag(name) == nil {
		return name, true
	}
	return fullRefTag(name)
}

// fullRefTag returns the tag of the ref.name value v when v is a full
// reference with an explicit tag and no digest.
func fullRefTag(v string) (string, bool) {
	r, err := reference.Parse(v)
	if err != nil || r.Digest != "" || !strings.HasSuffix(v, ":"+r.Tag) {
		return "", false
	}
	return r.Tag, true
}

// untagged reports whether entry has no ref.name annotation.
func untagged(entry ocispec.Descriptor) bool {
	_, ok := entry.Annotations[ocispec.AnnotationRefName]
	return !ok
}

// findTag returns the entry tagged tag: the first whose ref.name is tag
// itself, else the first whose ref.name is a full reference with tag.
func findTag(ix ocispec.Index, tag string) (ocispec.Descriptor, bool) {
	for _, e := range ix.Manifests {
		if e.Annotations[ocispec.AnnotationRefName] == tag {
			return e, true
		}
	}
	for _, e := range ix.Manifests {
		if t, ok := tagOf(e); ok && t == tag {
			return e, true
		}
	}
	return ocispec.Descriptor{}, false
}

// findDigest returns the first entry of digest d, tagged or not.
func findDigest(ix ocispec.Index, d digest.Digest) (ocispec.Descriptor, bool) {
	for _, e := range ix.Manifests {
		if e.Digest == d {
			return e, true
		}
	}
	return ocispec.Descriptor{}, false
}

// tags returns the tags of ix, sorted, each once.
func tags(ix ocispec.Index) []string {
	var out []string
	for _, e := range ix.Manifests {
		if t, ok := tagOf(e); ok {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// entryFor returns the index entry of the manifest desc describes, without
// a ref.name: a copy of an existing entry of its digest (keeping its
// platform and other annotations), or desc itself.
func entryFor(ix ocispec.Index, desc ocispec.Descriptor) ocispec.Descriptor {
	e, ok := findDigest(ix, desc.Digest)
	if !ok {
		return ocispec.Descriptor{
			MediaType:    desc.MediaType,
			Digest:       desc.Digest,
			Size:         desc.Size,
			ArtifactType: desc.ArtifactType,
		}
	}
	e.Annotations = maps.Clone(e.Annotations)
	delete(e.Annotations, ocispec.AnnotationRefName)
	if len(e.Annotations) == 0 {
		e.Annotations = nil
	}
	return e
}

// setTag points tag at the manifest desc describes: every entry tagged tag
// and the untagged entry of desc's digest are replaced by one entry tagged
// tag, at the end. It reports whether ix changed.
func setTag(ix *ocispec.Index, tag string, desc ocispec.Descriptor) bool {
	if e, ok := findTag(*ix, tag); ok && e.Digest == desc.Digest && countTag(*ix, tag) == 1 {
		return false
	}
	e := entryFor(*ix, desc)
	e.Annotations = maps.Clone(e.Annotations)
	if e.Annotations == nil {
		e.Annotations = make(map[string]string, 1)
	}
	e.Annotations[ocispec.AnnotationRefName] = tag
	ix.Manifests = slices.DeleteFunc(ix.Manifests, func(x ocispec.Descriptor) bool {
		t, ok := tagOf(x)
		return (ok && t == tag) || (x.Digest == desc.Digest && untagged(x))
	})
	ix.Manifests = append(ix.Manifests, e)
	return true
}

// countTag returns how many entries are tagged tag.
func countTag(ix ocispec.Index, tag string) int {
	n := 0
	for _, e := range ix.Manifests {
		if t, ok := tagOf(e); ok && t == tag {
			n++
		}
	}
	return n
}

// addUntagged lists the manifest desc describes untagged, unless ix lists it
// already. It reports whether ix changed.
func addUntagged(ix *ocispec.Index, desc ocispec.Descriptor) bool {
	if _, ok := findDigest(*ix, desc.Digest); ok {
		return false
	}
	ix.Manifests = append(ix.Manifests, entryFor(*ix, desc))
	return true
}

// removeTag removes the entries tagged tag. A manifest left with no entry
// is then listed untagged, at the end, so that it stays in the repository,
// as a registry keeps a manifest whose tag is deleted. It reports whether
// there was such a tag.
func removeTag(ix *ocispec.Index, tag string) bool {
	var dropped []ocispec.Descriptor
	ix.Manifests = slices.DeleteFunc(ix.Manifests, func(e ocispec.Descriptor) bool {
		t, ok := tagOf(e)
		if ok && t == tag {
			dropped = append(dropped, e)
		}
		return ok && t == tag
	})
	for _, e := range dropped {
		addUntagged(ix, entryFor(ocispec.Index{Manifests: []ocispec.Descriptor{e}}, e))
	}
	return len(dropped) > 0
}

// removeDigest removes every entry of digest d. It reports whether there
// was one.
func removeDigest(ix *ocispec.Index, d digest.Digest) bool {
	n := len(ix.Manifests)
	ix.Manifests = slices.DeleteFunc(ix.Manifests, func(e ocispec.Descriptor) bool { return e.Digest == d })
	return len(ix.Manifests) != n
}

// listed returns the entries of ix, one per digest, in index order.
func listed(ix ocispec.Index) []ocispec.Descriptor {
	seen := make(map[digest.Digest]bool, len(ix.Manifests))
	var out []ocispec.Descriptor
	for _, e := range ix.Manifests {
		if !seen[e.Digest] {
			seen[e.Digest] = true
			out = append(out, e)
		}
	}
	return out
}
