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
//
// An index keeps, besides the entries in file order, what each entry's
// annotation means and maps from tag and digest to entry, so that a lookup
// costs the same whatever the number of tags, and an edit costs one pass of
// comparisons over the entries at most: less than writing them out.

// index is the parsed index.json of a repository, with its lookups.
type index struct {
	ix       ocispec.Index       // as read; ix.Manifests are the entries
	meta     []entryMeta         // what ix.Manifests[i]'s annotation says
	byTag    map[string]tagEntry // the entries of each tag
	byDigest map[digest.Digest]int
	sorted   []string // the tags, sorted, each once
}

// entryMeta is what the annotations of an entry say.
type entryMeta struct {
	tag   string // its tag, "" if none
	exact bool   // its ref.name is the tag itself, not a full reference
	named bool   // it has a ref.name annotation
}

// tagEntry locates the entries of a tag: the one a lookup returns (the
// first whose ref.name is the tag itself, else the first with the tag in
// a full reference) and how many there are.
type tagEntry struct {
	i     int
	exact bool
	n     int
}

// newIndex returns the index of ix, which it keeps.
func newIndex(ix ocispec.Index) *index {
	x := &index{ix: ix}
	x.meta = make([]entryMeta, len(ix.Manifests))
	for i, e := range ix.Manifests {
		x.meta[i] = metaOf(e)
	}
	x.reindex()
	x.sorted = slices.Sorted(maps.Keys(x.byTag))
	return x
}

// metaOf returns what the annotations of entry say.
func metaOf(entry ocispec.Descriptor) entryMeta {
	name, ok := entry.Annotations[ocispec.AnnotationRefName]
	if !ok {
		return entryMeta{}
	}
	if reference.ValidateTag(name) == nil {
		return entryMeta{tag: name, exact: true, named: true}
	}
	t, _ := fullRefTag(name)
	return entryMeta{tag: t, named: true}
}

// reindex makes the maps of x again from its entries.
func (x *index) reindex() {
	x.byTag = make(map[string]tagEntry, len(x.meta))
	x.byDigest = make(map[digest.Digest]int, len(x.meta))
	for i := range x.meta {
		x.note(i)
	}
}

// note adds entry i, the last so far, to the maps of x.
func (x *index) note(i int) {
	if _, ok := x.byDigest[x.ix.Manifests[i].Digest]; !ok {
		x.byDigest[x.ix.Manifests[i].Digest] = i
	}
	m := x.meta[i]
	if m.tag == "" {
		return
	}
	t, ok := x.byTag[m.tag]
	switch {
	case !ok:
		t = tagEntry{i: i, exact: m.exact}
	case m.exact && !t.exact:
		t.i, t.exact = i, true
	}
	t.n++
	x.byTag[m.tag] = t
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

// findTag returns the entry tagged tag: the first whose ref.name is tag
// itself, else the first whose ref.name is a full reference with tag.
func (x *index) findTag(tag string) (ocispec.Descriptor, bool) {
	t, ok := x.byTag[tag]
	if !ok {
		return ocispec.Descriptor{}, false
	}
	return x.ix.Manifests[t.i], true
}

// findDigest returns the first entry of digest d, tagged or not.
func (x *index) findDigest(d digest.Digest) (ocispec.Descriptor, bool) {
	i, ok := x.byDigest[d]
	if !ok {
		return ocispec.Descriptor{}, false
	}
	return x.ix.Manifests[i], true
}

// tags returns the tags of x, sorted, each once. The caller must not
// modify the slice.
func (x *index) tags() []string { return x.sorted }

// entryFor returns the index entry of the manifest desc describes, without
// a ref.name: a copy of an existing entry of its digest (keeping its
// platform and other annotations), or desc itself.
func (x *index) entryFor(desc ocispec.Descriptor) ocispec.Descriptor {
	e, ok := x.findDigest(desc.Digest)
	if !ok {
		return ocispec.Descriptor{
			MediaType:    desc.MediaType,
			Digest:       desc.Digest,
			Size:         desc.Size,
			ArtifactType: desc.ArtifactType,
		}
	}
	return withoutName(e)
}

// withoutName returns e without its ref.name annotation.
func withoutName(e ocispec.Descriptor) ocispec.Descriptor {
	e.Annotations = maps.Clone(e.Annotations)
	delete(e.Annotations, ocispec.AnnotationRefName)
	if len(e.Annotations) == 0 {
		e.Annotations = nil
	}
	return e
}

// add appends entry e.
func (x *index) add(e ocispec.Descriptor) {
	x.ix.Manifests = append(x.ix.Manifests, e)
	x.meta = append(x.meta, metaOf(e))
	x.note(len(x.meta) - 1)
	if t := x.meta[len(x.meta)-1].tag; t != "" {
		if i, found := slices.BinarySearch(x.sorted, t); !found {
			x.sorted = slices.Insert(x.sorted, i, t)
		}
	}
}

// drop removes the entries that del selects and returns them.
func (x *index) drop(del func(e ocispec.Descriptor, m entryMeta) bool) []ocispec.Descriptor {
	var dropped []ocispec.Descriptor
	j := 0
	for i, e := range x.ix.Manifests {
		if del(e, x.meta[i]) {
			dropped = append(dropped, e)
			continue
		}
		x.ix.Manifests[j], x.meta[j] = e, x.meta[i]
		j++
	}
	if len(dropped) == 0 {
		return nil
	}
	clear(x.ix.Manifests[j:])
	x.ix.Manifests, x.meta = x.ix.Manifests[:j], x.meta[:j]
	x.reindex()
	for _, e := range dropped {
		t := metaOf(e).tag
		if _, ok := x.byTag[t]; t != "" && !ok {
			if i, found := slices.BinarySearch(x.sorted, t); found {
				x.sorted = slices.Delete(x.sorted, i, i+1)
			}
		}
	}
	return dropped
}

// setTag points tag at the manifest desc describes: every entry tagged tag
// and the untagged entry of desc's digest are replaced by one entry tagged
// tag, at the end. It reports whether x changed.
func (x *index) setTag(tag string, desc ocispec.Descriptor) bool {
	if t, ok := x.byTag[tag]; ok && x.ix.Manifests[t.i].Digest == desc.Digest && t.n == 1 {
		return false
	}
	e := x.entryFor(desc)
	e.Annotations = maps.Clone(e.Annotations)
	if e.Annotations == nil {
		e.Annotations = make(map[string]string, 1)
	}
	e.Annotations[ocispec.AnnotationRefName] = tag
	x.drop(func(d ocispec.Descriptor, m entryMeta) bool {
		return m.tag == tag || (d.Digest == desc.Digest && !m.named)
	})
	x.add(e)
	return true
}

// addUntagged lists the manifest desc describes untagged, unless x lists it
// already. It reports whether x changed.
func (x *index) addUntagged(desc ocispec.Descriptor) bool {
	if _, ok := x.findDigest(desc.Digest); ok {
		return false
	}
	x.add(x.entryFor(desc))
	return true
}

// removeTag removes the entries tagged tag. A manifest left with no entry
// is then listed untagged, at the end, so that it stays in the repository,
// as a registry keeps a manifest whose tag is deleted. It reports whether
// there was such a tag.
func (x *index) removeTag(tag string) bool {
	if _, ok := x.byTag[tag]; !ok {
		return false
	}
	dropped := x.drop(func(_ ocispec.Descriptor, m entryMeta) bool { return m.tag == tag })
	for _, e := range dropped {
		x.addUntagged(withoutName(e))
	}
	return true
}

// removeDigest removes every entry of digest d. It reports whether there
// was one.
func (x *index) removeDigest(d digest.Digest) bool {
	if _, ok := x.byDigest[d]; !ok {
		return false
	}
	x.drop(func(e ocispec.Descriptor, _ entryMeta) bool { return e.Digest == d })
	return true
}

// listed returns the entries of x, one per digest, in index order.
func (x *index) listed() []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for i, e := range x.ix.Manifests {
		if x.byDigest[e.Digest] == i {
			out = append(out, e)
		}
	}
	return out
}
