// Package route turns the path of a request to the OCI distribution API
// into the endpoint it names, its repository and its reference: the one
// parse that [github.com/regkit/regkit/server.Handler] routes by and
// that the fake registry's authorization, faults, profiles and request log
// all read, so that what is authorized is exactly what is served.
//
// A path is read as the Handler serves it: every segment is unescaped on
// its own, so "/v2/secret/%6danifests/latest" names the manifest "latest"
// of "secret", exactly as "/v2/secret/manifests/latest" does. Code that
// classifies a request must take [Parse]'s result (or the one carried in
// the request's context, [FromRequest]), never look at the raw path.
//
// Endpoints, as in the distribution spec
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints):
//
//	/v2/                                  Base
//	/v2/_catalog                          Catalog
//	/v2/<name>/manifests/<reference>      Manifest
//	/v2/<name>/blobs/<digest>             Blob
//	/v2/<name>/blobs/uploads/             UploadStart (with or without the slash)
//	/v2/<name>/blobs/uploads/<id>         Upload
//	/v2/<name>/tags/list                  Tags
//	/v2/<name>/referrers/<digest>         Referrers
package route

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/regkit/regkit/internal/spec"
	"github.com/regkit/regkit/transport"
)

// Kind is the endpoint a path names. The zero Kind, None, names none.
type Kind int

// The endpoints of the distribution API.
const (
	None        Kind = iota // no endpoint: the zero Target, and every path Parse refuses
	Base                    // /v2/, the version check
	Catalog                 // /v2/_catalog
	Manifest                // /v2/<name>/manifests/<reference>
	Blob                    // /v2/<name>/blobs/<digest>
	UploadStart             // /v2/<name>/blobs/uploads/
	Upload                  // /v2/<name>/blobs/uploads/<id>
	Tags                    // /v2/<name>/tags/list
	Referrers               // /v2/<name>/referrers/<digest>
)

var kindNames = [...]string{"none", "base", "catalog", "manifest", "blob", "upload-start", "upload", "tags", "referrers"}

// String returns the kind's name, "manifest" for Manifest.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Target is what a request path names.
type Target struct {
	// Kind is the endpoint.
	Kind Kind
	// Name is the repository, unescaped and valid
	// ([spec.CheckName]); "" for Base and Catalog.
	Name string
	// Ref is the last segment, unescaped and not checked: the tag or
	// digest of a Manifest, the digest of a Blob or Referrers, the
	// session ID of an Upload; "" for the other kinds.
	Ref string
}

// ErrNoEndpoint is matched by the error of [Parse] for a path that names no
// endpoint of the API. A path that names one with a malformed segment (an
// escaped slash, a bad escape) or an invalid repository name gives a
// [*transport.Error] matching [transport.ErrNameInvalid].
var ErrNoEndpoint = errors.New("no endpoint of the distribution API")

// parseError is an error of Parse: a message, and the sentinel it matches.
type parseError struct {
	kind error
	msg  string
	err  error // the cause, if any
}

func (e *parseError) Error() string        { return e.msg }
func (e *parseError) Unwrap() error        { return e.err }
func (e *parseError) Is(target error) bool { return target == e.kind }

// Parse finds the endpoint an escaped request path (an [url.URL]'s
// EscapedPath, without the query) names. Names may hold slashes, so the
// endpoint is read from the end of the path: a name may even have
// "manifests" or "blobs" as a component. Every segment is unescaped on its
// own. A path that names no endpoint gives an error matching
// [ErrNoEndpoint]; an escaped slash, a bad escape, an empty segment, "."
// or ".." and anything else a repository name cannot hold give one
// matching [transport.ErrNameInvalid]. On error the Target is the zero Target, which
// names no repository.
func Parse(escaped string) (Target, error) {
	if escaped == "/v2" || escaped == "/v2/" {
		return Target{Kind: Base}, nil
	}
	rest, ok := strings.CutPrefix(escaped, "/v2/")
	if !ok {
		return Target{}, noEndpoint(escaped)
	}
	if strings.Contains(rest, "%") {
		// Unescape each segment on its own; joined again, they hold no
		// escaped slash, so the plain path below splits as they do.
		segs := strings.Split(rest, "/")
		for i, s := range segs {
			u, err := url.PathUnescape(s)
			if err != nil {
				return Target{}, &transport.Error{Code: transport.CodeNameInvalid, Message: "malformed path", Err: err}
			}
			if strings.Contains(u, "/") {
				return Target{}, transport.Errorf(transport.CodeNameInvalid, "malformed path: escaped slash in %q", s)
			}
			segs[i] = u
		}
		rest = strings.Join(segs, "/")
	}
	// The endpoint is read from the last segments of rest, and the name is
	// what comes before them: a part of rest, so that a path without
	// escapes is parsed with no allocation.
	if rest == "_catalog" {
		return Target{Kind: Catalog}, nil
	}
	head, last, ok := cutLast(rest)
	if !ok {
		return Target{}, noEndpoint(escaped)
	}
	name, second, ok := cutLast(head)
	if !ok {
		return Target{}, noEndpoint(escaped) // fewer than three segments
	}
	var t Target
	switch {
	case second == "tags" && last == "list":
		t = Target{Kind: Tags}
	case second == "manifests":
		t = Target{Kind: Manifest, Ref: last}
	case second == "referrers":
		t = Target{Kind: Referrers, Ref: last}
	case second == "blobs" && last == "uploads":
		t = Target{Kind: UploadStart}
	case second == "blobs":
		t = Target{Kind: Blob, Ref: last}
	case second == "uploads":
		before, third, ok := cutLast(name)
		if !ok || third != "blobs" {
			return Target{}, noEndpoint(escaped)
		}
		t = Target{Kind: Upload, Ref: last}
		if last == "" { // the POST URL, with its trailing slash
			t = Target{Kind: UploadStart}
		}
		name = before // the name ends before "blobs"
	default:
		return Target{}, noEndpoint(escaped)
	}
	t.Name = name
	if err := spec.CheckName(t.Name); err != nil {
		return Target{}, err
	}
	return t, nil
}

// cutLast cuts path at its last slash, into what comes before it and the
// last segment, and reports whether there was a slash.
func cutLast(path string) (before, last string, found bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", path, false
	}
	return path[:i], path[i+1:], true
}

func noEndpoint(escaped string) error {
	return &parseError{kind: ErrNoEndpoint, msg: fmt.Sprintf("%v at %q", ErrNoEndpoint, escaped)}
}

// parsed is the parse of one path, as a context carries it.
type parsed struct {
	path string
	t    Target
	err  error
}

type ctxKey struct{}

// NewContext parses the escaped path and returns ctx with the result
// attached, and the result. A request whose context it is reads the same
// result back with [FromRequest], instead of parsing its path again.
func NewContext(ctx context.Context, escaped string) (context.Context, Target, error) {
	t, err := Parse(escaped)
	return context.WithValue(ctx, ctxKey{}, &parsed{path: escaped, t: t, err: err}), t, err
}

// FromRequest returns the parse of r's escaped path: the one [NewContext]
// attached to r's context when it was made for that very path, or else a
// new [Parse] of it.
func FromRequest(r *http.Request) (Target, error) {
	escaped := r.URL.EscapedPath()
	if p, ok := r.Context().Value(ctxKey{}).(*parsed); ok && p.path == escaped {
		return p.t, p.err
	}
	return Parse(escaped)
}
