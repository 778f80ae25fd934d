package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/regkit/regkit/internal/spec"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/regkit/regkit/internal/linkheader"
	"github.com/regkit/regkit/internal/origin"
	"github.com/regkit/regkit/transport"
)

// ListTags lists one page of repo's tags (GET /v2/<name>/tags/list with n
// and last). Page.Next is the absolute URL of the registry's Link
// rel="next", which must stay on the registry's scheme, host and port.
// Without a Link, a page of req.N entries (N > 0) still has a Next, the
// same request with last set to the page's last entry: some registries
// page that way without saying so.
//
// A page larger than the client's limits, in bytes once decompressed (see
// [WithMaxListSize]) or in entries (see [WithMaxListEntries]), fails with a
// [*transport.LimitError], having read no more than the limit.
func (c *Client) ListTags(ctx context.Context, repo string, req transport.PageRequest) (transport.Page[string], error) {
	if err := checkRepo(repo); err != nil {
		return transport.Page[string]{}, err
	}
	return c.list(ctx, c.endpoint(repo, "tags", "list"), req, transport.CodeNameUnknown)
}

// ListRepositories lists one page of the registry's catalog (GET
// /v2/_catalog with n and last), paged like [Client.ListTags]. A registry
// without a catalog (404) gives [transport.ErrUnsupported].
func (c *Client) ListRepositories(ctx context.Context, req transport.PageRequest) (transport.Page[string], error) {
	return c.list(ctx, c.endpoint("", "_catalog"), req, transport.CodeUnsupported)
}

// list GETs one page of a list of tags or repositories.
func (c *Client) list(ctx context.Context, u *url.URL, req transport.PageRequest, notFound transport.Code) (transport.Page[string], error) {
	if err := spec.CheckPageRequest(req); err != nil {
		return transport.Page[string]{}, err
	}
	if req.Next != "" {
		var err error
		if u, err = c.nextURL(req.Next); err != nil {
			return transport.Page[string]{}, err
		}
	} else {
		q := url.Values{}
		if req.N > 0 {
			q.Set("n", strconv.Itoa(req.N))
		}
		if req.Last != "" {
			q.Set("last", req.Last)
		}
		u.RawQuery = q.Encode()
	}
	resp, err := c.do(ctx, reqSpec{method: http.MethodGet, url: u, notFound: notFound, want: wantOK, read: c.maxList})
	if err != nil {
		return transport.Page[string]{}, err
	}
	defer drainClose(resp)
	what := "tags page"
	if notFound == transport.CodeUnsupported {
		what = "catalog page"
	}
	tooLarge := func(got int64) error {
		return &transport.LimitError{What: "GET " + redact(u) + ": " + what, Unit: "bytes", Got: got, Limit: c.maxList, Option: "WithMaxListSize"}
	}
	if resp.ContentLength > c.maxList {
		return transport.Page[string]{}, tooLarge(resp.ContentLength)
	}
	// The body is the decompressed one: the client's transport asks for
	// gzip and decompresses what comes, so the limit is on what the
	// registry's bytes expand to.
	raw, err := bodyBytes(resp, c.maxList)
	if err != nil {
		return transport.Page[string]{}, fmt.Errorf("GET %s: read the list: %w", redact(u), err)
	}
	if int64(len(raw)) > c.maxList {
		return transport.Page[string]{}, tooLarge(0)
	}
	// Tags and repositories share one slice, and one limit on entries.
	var items []string
	names := limitedNames{items: &items, max: c.maxListEntries, u: u, what: what}
	body := struct {
		Tags         limitedNames `json:"tags"`
		Repositories limitedNames `json:"repositories"`
	}{names, names}
	if err := json.Unmarshal(raw, &body); err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			return transport.Page[string]{}, le
		}
		return transport.Page[string]{}, fmt.Errorf("GET %s: decode the list: %w", redact(u), err)
	}
	next, err := c.nextPage(resp)
	if err != nil {
		return transport.Page[string]{}, err
	}
	items, next = fixPage(items, u, next)
	return transport.Page[string]{Items: items, Next: next}, nil
}

// fixPage keeps the contract for registries that do not page a list (no
// Link) and ignore its n and last, or do not sort it, as the distribution
// registry before version 3 does with tags: it sorts the list, drops what
// comes up to last, and cuts it after n, with a next page that asks the
// same again after the page's last entry. A page of exactly n entries
// without a Link gets that next page too, for registries that page with
// n and last but send no Link (the listing then ends at an empty or short
// page, one request more than needed when the list ends on a full page).
// Pages a registry links are left as they are.
func fixPage(items []string, u *url.URL, next string) ([]string, string) {
	if next != "" {
		return items, next
	}
	if !slices.IsSorted(items) {
		items = slices.Sorted(slices.Values(items))
	}
	q := u.Query()
	if last := q.Get("last"); last != "" {
		i, found := slices.BinarySearch(items, last)
		if found {
			i++
		}
		items = items[i:]
	}
	// A full page may have more after it even without a Link, as some
	// registries page without one: ask once more, after its last entry.
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n > 0 && len(items) >= n {
		items = items[:n]
		q.Set("last", items[n-1])
		nu := *u
		nu.RawQuery = q.Encode()
		next = nu.String()
	}
	return items, next
}

// nextPage returns the absolute URL of resp's Link rel="next", or "".
func (c *Client) nextPage(resp *http.Response) (string, error) {
	next, err := linkheader.Next(resp.Header.Values("Link")...)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", redact(resp.Request.URL), err)
	}
	if next == "" {
		return "", nil
	}
	u, err := resp.Request.URL.Parse(next)
	if err != nil {
		return "", fmt.Errorf("GET %s: next page link %q: %w", redact(resp.Request.URL), next, err)
	}
	if !origin.Same(u, &c.base) {
		return "", fmt.Errorf("GET %s: next page link %q leaves the registry %s", redact(resp.Request.URL), redact(u), c.base.Host)
	}
	return u.String(), nil
}

// nextURL parses a page cursor, which must be an absolute URL of the
// registry.
func (c *Client) nextURL(next string) (*url.URL, error) {
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() || !origin.Same(u, &c.base) {
		return nil, fmt.Errorf("page cursor %q is not a URL of the registry %s://%s", next, c.base.Scheme, c.base.Host)
	}
	return u, nil
}
