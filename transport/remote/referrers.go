package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/regkit/regkit/internal/spec"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/transport"
)

// referrersAttempts is how many times the client tries the
// read-modify-write of a fallback referrers index before it gives up, with
// a random wait before each retry of up to referrersBackoff, doubled each
// time, at most maxReferrersBackoff.
const (
	referrersAttempts   = 10
	referrersBackoff    = 10 * time.Millisecond
	maxReferrersBackoff = time.Second
)

// ListReferrers lists the referrers of subject in repo (GET
// /v2/<name>/referrers/<digest>), filtered by artifactType on the client
// when the registry did not (no OCI-Filters-Applied header naming it).
// Pages follow the Link header. A page, or fallback index, of more than
// [MaxReferrersPerPage] descriptors fails with a [*transport.LimitError].
//
// A registry without the referrers API (a 404, remembered) is read through
// the spec's fallback: the index under the tag <alg>-<hex> of the subject,
// in one page. No fallback index, like an unknown repository, gives an empty
// page, as the referrers API does.
func (c *Client) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string, req transport.PageRequest) (transport.Page[ocispec.Descriptor], error) {
	if err := checkRepo(repo); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	if err := checkDigest(subject); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	var u *url.URL
	switch {
	case req.Next != "":
		var err error
		if u, err = c.nextURL(req.Next); err != nil {
			return transport.Page[ocispec.Descriptor]{}, err
		}
	case c.caps.referrers.get() == triNo:
		return c.fallbackReferrers(ctx, repo, subject, artifactType)
	default:
		u = c.endpoint(repo, "referrers", subject.String())
		q := url.Values{}
		if artifactType != "" {
			q.Set("artifactType", artifactType)
		}
		if req.N > 0 {
			q.Set("n", strconv.Itoa(req.N))
		}
		u.RawQuery = q.Encode()
	}
	page, ok, err := c.referrersPage(ctx, u, artifactType)
	if errors.Is(err, transport.ErrNameUnknown) {
		return transport.Page[ocispec.Descriptor]{}, nil // as for an unknown subject
	}
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	if !ok {
		return c.fallbackReferrers(ctx, repo, subject, artifactType)
	}
	return page, nil
}

// referrersPage GETs one page of the referrers API. ok is false when the
// registry has no referrers API, which it remembers.
func (c *Client) referrersPage(ctx context.Context, u *url.URL, artifactType string) (page transport.Page[ocispec.Descriptor], ok bool, err error) {
	resp, err := c.do(ctx, reqSpec{
		method: http.MethodGet, url: u,
		header: http.Header{"Accept": {ocispec.MediaTypeImageIndex}},
		want:   []int{http.StatusOK},
		read:   c.maxManifest,
	})
	if err != nil {
		var re *ResponseError
		if errors.As(err, &re) && lacksReferrersAPI(re) {
			c.caps.referrers.set(triNo)
			return page, false, nil
		}
		return page, false, err
	}
	defer drainClose(resp)
	c.caps.referrers.set(triYes)
	body, err := c.readManifest(resp, "referrers list")
	if err != nil {
		return page, false, err
	}
	ix, err := decodeIndex(body)
	if err != nil {
		return page, false, indexError(err, &transport.Error{Code: transport.CodeManifestInvalid, Message: "GET " + redact(u) + ": referrers list is not an image index", Err: err})
	}
	page.Items = ix.Manifests
	if artifactType != "" && !isFiltered(resp.Header, "artifactType") {
		page.Items = filterReferrers(page.Items, artifactType)
	}
	if page.Next, err = c.nextPage(resp); err != nil {
		return transport.Page[ocispec.Descriptor]{}, false, err
	}
	return page, true, nil
}

// lacksReferrersAPI reports whether an answer to a referrers request says the
// registry has no referrers API: a 404 that is not about the repository, or
// a 405.
func lacksReferrersAPI(re *ResponseError) bool {
	switch re.StatusCode {
	case http.StatusMethodNotAllowed:
		return true
	case http.StatusNotFound:
		return !slices.ContainsFunc(re.Errors, func(e *transport.Error) bool { return e.Code == transport.CodeNameUnknown })
	}
	return false
}

// isFiltered reports whether the OCI-Filters-Applied header lists filter.
func isFiltered(h http.Header, filter string) bool {
	for _, v := range h.Values("OCI-Filters-Applied") {
		for _, f := range strings.Split(v, ",") {
			if strings.TrimSpace(f) == filter {
				return true
			}
		}
	}
	return false
}

func filterReferrers(descs []ocispec.Descriptor, artifactType string) []ocispec.Descriptor {
	if artifactType == "" {
		return descs
	}
	var out []ocispec.Descriptor
	for _, d := range descs {
		if d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	return out
}

// hasReferrersAPI reports whether the registry has the referrers API,
// asking it once.
func (c *Client) hasReferrersAPI(ctx context.Context, repo string, subject digest.Digest) (bool, error) {
	switch c.caps.referrers.get() {
	case triYes:
		return true, nil
	case triNo:
		return false, nil
	}
	_, ok, err := c.referrersPage(ctx, c.endpoint(repo, "referrers", subject.String()), "")
	return ok, err
}

// referrersTag returns the fallback tag of subject's referrers index:
// <alg>-<hex>, cut to the lengths the spec allows.
func referrersTag(subject digest.Digest) string {
	alg, hex := string(subject.Algorithm()), subject.Encoded()
	return alg[:min(len(alg), 32)] + "-" + hex[:min(len(hex), 64)]
}

// fallbackReferrers reads the referrers of subject from its fallback tag.
func (c *Client) fallbackReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) (transport.Page[ocispec.Descriptor], error) {
	tag := referrersTag(subject)
	_, raw, err := c.GetManifest(ctx, repo, tag)
	if errors.Is(err, transport.ErrNotFound) {
		return transport.Page[ocispec.Descriptor]{}, nil
	}
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, err
	}
	ix, err := decodeIndex(raw)
	if err != nil {
		return transport.Page[ocispec.Descriptor]{}, indexError(err, &transport.Error{Code: transport.CodeManifestInvalid, Message: fmt.Sprintf("referrers fallback tag %q of %s is not an image index", tag, repo), Err: err})
	}
	return transport.Page[ocispec.Descriptor]{Items: filterReferrers(ix.Manifests, artifactType)}, nil
}

// indexError returns the *LimitError err holds, or else invalid.
func indexError(err error, invalid error) error {
	var le *transport.LimitError
	if errors.As(err, &le) {
		return le
	}
	return invalid
}

// referrerDescriptor describes a pushed manifest as the referrers list
// does.
func referrerDescriptor(desc ocispec.Descriptor, info manifestInfo) ocispec.Descriptor {
	at := info.ArtifactType
	if at == "" && info.Config != nil {
		at = info.Config.MediaType
	}
	return ocispec.Descriptor{
		MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size,
		ArtifactType: at, Annotations: info.Annotations,
	}
}

// addReferrer adds desc to the fallback referrers index of subject, and
// then verifies that the index still lists it once the write has settled
// (see [Client.verifyReferrers]).
func (c *Client) addReferrer(ctx context.Context, repo string, subject digest.Digest, desc ocispec.Descriptor) error {
	v := referrerVerify{seen: map[digest.Digest]ocispec.Descriptor{}, want: []ocispec.Descriptor{desc}}
	start := time.Now()
	if err := c.editReferrers(ctx, repo, subject, v.edit); err != nil {
		return err
	}
	return c.verifyReferrers(ctx, repo, subject, &v, time.Since(start))
}

// referrerVerify is the state of one referrer push through the fallback
// index: the referrers it must see listed (its own, and those it saw
// listed before and then missing, whose manifests still exist), and every
// referrer it saw listed in any read.
type referrerVerify struct {
	seen map[digest.Digest]ocispec.Descriptor
	want []ocispec.Descriptor
}

// edit adds what v wants to ix, noting what ix lists: the edit of
// [Client.editReferrers].
func (v *referrerVerify) edit(ix *ocispec.Index) bool {
	changed := false
	v.note(ix.Manifests)
	for _, w := range v.want {
		if !listed(ix.Manifests, w.Digest) {
			ix.Manifests = append(ix.Manifests, w)
			changed = true
		}
	}
	return changed
}

// note remembers descs as seen.
func (v *referrerVerify) note(descs []ocispec.Descriptor) {
	for _, d := range descs {
		v.seen[d.Digest] = d
	}
}

// listed reports whether descs lists d.
func listed(descs []ocispec.Descriptor, d digest.Digest) bool {
	return slices.ContainsFunc(descs, func(m ocispec.Descriptor) bool { return m.Digest == d })
}

// Settling of a referrer written to the fallback index: see
// [Client.verifyReferrers].
const (
	// referrersRepairs is how many times a push re-adds referrers it finds
	// missing from the fallback index before it fails.
	referrersRepairs = 8
	// minSettle and maxSettle bound the wait before each verifying read.
	minSettle = 20 * time.Millisecond
	maxSettle = 2 * time.Second
	// settleCycles is how many of the push's own read-modify-write cycles
	// the wait lasts at least.
	settleCycles = 4
)

// verifyReferrers makes sure the fallback index of subject lists what v
// wants once the write that added it has settled, where a registry lets a
// concurrent writer overwrite it: one that ignores If-Match (the
// distribution registry), or one that ignores If-None-Match, where a writer
// that found no index yet creates it over one created meanwhile.
//
// A write that loses a referrer is one whose read (and the check of the
// tag before its PUT) came before the referrer was written and whose PUT
// lands after. So the push waits a settle time, longer than a
// read-modify-write cycle (settleCycles of its own, measured as cycle, at
// least minSettle, at most maxSettle, plus up to as much again at random),
// then reads the index: if it lists what v wants, the push is done;
// otherwise it adds it again (with the same guards) and waits again, up to
// referrersRepairs times, and then fails with
// [transport.ErrPreconditionFailed].
//
// A push also repairs the referrers of others: each referrer it saw listed
// in any of its reads and finds missing later is added again with its own,
// if its manifest still exists (a HEAD by digest; a deleted one is left
// out). With every writer doing so, a referrer whose push reported success
// is lost only to a write whose cycle, from the check of the tag before
// its PUT to the PUT taking effect, is longer than the settle time of each
// push that listed it: see the package documentation.
func (c *Client) verifyReferrers(ctx context.Context, repo string, subject digest.Digest, v *referrerVerify, cycle time.Duration) error {
	tag := referrersTag(subject)
	for repair := 0; ; repair++ {
		settle := min(max(settleCycles*cycle, minSettle), maxSettle)
		if err := sleepCtx(ctx, settle+rand.N(settle)); err != nil {
			return err
		}
		page, err := c.fallbackReferrers(ctx, repo, subject, "")
		var missing []ocispec.Descriptor
		if err == nil {
			missing, err = c.missingReferrers(ctx, repo, v, page.Items)
		}
		switch {
		case err != nil && (!internalError(err) || repair == referrersRepairs):
			return fmt.Errorf("verify the referrers fallback tag %q of %s: %w", tag, repo, err)
		case err != nil:
			continue // read again
		}
		v.note(page.Items)
		if len(missing) == 0 {
			return nil
		}
		if repair == referrersRepairs {
			return transport.Errorf(transport.CodePreconditionFailed, "referrers fallback tag %q of %s: %d referrers (%s first) still not listed after %d repairs: concurrent writers keep overwriting the index",
				tag, repo, len(missing), missing[0].Digest, referrersRepairs)
		}
		start := time.Now()
		err = c.editReferrers(ctx, repo, subject, v.edit)
		if err != nil && (repair == referrersRepairs || !errors.Is(err, transport.ErrPreconditionFailed) && !internalError(err)) {
			return err
		}
		cycle = time.Since(start)
	}
}

// missingReferrers returns what v wants that listing lacks, with the
// referrers v saw before that listing lacks and that still exist in repo,
// which it adds to what v wants.
func (c *Client) missingReferrers(ctx context.Context, repo string, v *referrerVerify, listing []ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	var missing []ocispec.Descriptor
	for _, w := range v.want {
		if !listed(listing, w.Digest) {
			missing = append(missing, w)
		}
	}
	for d, desc := range v.seen {
		if listed(listing, d) || listed(v.want, d) {
			continue
		}
		cur, err := c.tagDigest(ctx, repo, d.String())
		if err != nil {
			return nil, fmt.Errorf("check referrer %s of %s, missing from the fallback index: %w", d, repo, err)
		}
		if cur != "" {
			missing = append(missing, desc)
			v.want = append(v.want, desc)
		}
	}
	return missing, nil
}

// removeReferrer removes d from the fallback referrers index of subject.
func (c *Client) removeReferrer(ctx context.Context, repo string, subject, d digest.Digest) error {
	return c.editReferrers(ctx, repo, subject, func(ix *ocispec.Index) bool {
		n := len(ix.Manifests)
		ix.Manifests = slices.DeleteFunc(ix.Manifests, func(m ocispec.Descriptor) bool { return m.Digest == d })
		return len(ix.Manifests) != n
	})
}

// editReferrers changes the fallback referrers index of subject with edit,
// which reports whether it changed anything. The read-modify-write is
// guarded (If-Match, or checks around the put) and retried when a
// concurrent writer changed the index in between. Where the registry
// honours If-Match and If-None-Match, no writer's referrer is lost; where
// it does not, a writer whose read came before this write and whose PUT
// lands after it overwrites it unseen, which [Client.verifyReferrers]
// repairs.
func (c *Client) editReferrers(ctx context.Context, repo string, subject digest.Digest, edit func(*ocispec.Index) bool) error {
	tag := referrersTag(subject)
	var err error
	for attempt := range referrersAttempts {
		if attempt > 0 {
			if err := sleepCtx(ctx, rand.N(min(referrersBackoff<<attempt, maxReferrersBackoff))); err != nil {
				return err
			}
		}
		cur, raw, gerr := c.GetManifest(ctx, repo, tag)
		ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
		switch {
		case errors.Is(gerr, transport.ErrNotFound):
			cur = ocispec.Descriptor{}
		case internalError(gerr):
			err = gerr
			continue
		case gerr != nil:
			return gerr
		default:
			got, err := decodeIndex(raw)
			if err != nil {
				return indexError(err, &transport.Error{Code: transport.CodeManifestInvalid, Message: fmt.Sprintf("referrers fallback tag %q of %s is not an image index", tag, repo), Err: err})
			}
			if got.SchemaVersion == 0 {
				got.SchemaVersion = ix.SchemaVersion
			}
			ix = got
		}
		if !edit(&ix) {
			return nil
		}
		if ix.Manifests == nil {
			ix.Manifests = []ocispec.Descriptor{}
		}
		if ix.MediaType == "" {
			ix.MediaType = ocispec.MediaTypeImageIndex
		}
		body, merr := json.Marshal(ix)
		if merr != nil {
			return merr
		}
		own := digest.SHA256.FromBytes(body)
		if cur.Digest == "" {
			err = c.putIfAbsent(ctx, repo, tag, ix.MediaType, body, own)
		} else {
			_, err = c.putIfMatch(ctx, repo, tag, ix.MediaType, body, own, cur.Digest)
		}
		if !errors.Is(err, transport.ErrPreconditionFailed) && !internalError(err) {
			return err
		}
	}
	return fmt.Errorf("referrers fallback tag %q of %s: gave up after %d attempts to concurrent writers: %w", tag, repo, referrersAttempts, err)
}

// internalError reports whether err is a 500 answer, which the
// distribution registry sends now and then to a read of a tag that a
// concurrent writer is moving: a read-modify-write of the fallback index
// tries again, within its bounds.
func internalError(err error) bool {
	var re *ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusInternalServerError
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
