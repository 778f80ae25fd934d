package auth

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/regkit/regkit/internal/intent"
	"github.com/regkit/regkit/internal/route"
)

// Scope is an access request of the token protocol
// (https://distribution.github.io/distribution/spec/auth/scope/): a
// resource and the actions wanted on it.
type Scope struct {
	// Resource is the resource type and name: "repository:myapp1" or
	// "registry:catalog".
	Resource string
	// Actions are the actions wanted on Resource: "pull", "push",
	// "delete", or "*" for all of them.
	Actions []string
}

// String returns the scope in the token protocol's form,
// "repository:myapp1:pull,push". A scope without actions is its resource
// alone.
func (s Scope) String() string {
	if len(s.Actions) == 0 {
		return s.Resource
	}
	return s.Resource + ":" + strings.Join(s.Actions, ",")
}

// The actions of the token protocol, and what distribution asks for by
// HTTP method.
const (
	actionPull   = "pull"
	actionPush   = "push"
	actionDelete = "delete"
	actionAll    = "*"
)

// parseScope parses "type:name:action,action". The name may hold a colon
// (a host with a port), so the actions are what follows the last one. A
// scope of another form (public.ecr.aws asks for "aws") is kept whole, as a
// resource without actions.
func parseScope(s string) Scope {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || !strings.Contains(s[:i], ":") {
		return Scope{Resource: s}
	}
	var actions []string
	for a := range strings.SplitSeq(s[i+1:], ",") {
		if a != "" {
			actions = append(actions, a)
		}
	}
	return Scope{Resource: s[:i], Actions: actions}
}

// scopeSet is a set of scopes: actions by resource, remembering the order
// in which resources came (token servers that read only the first scope
// get the request's own).
type scopeSet struct {
	order   []string
	actions map[string][]string // sorted, without duplicates
}

func newScopeSet() *scopeSet { return &scopeSet{actions: map[string][]string{}} }

// add adds scope s.
func (ss *scopeSet) add(s Scope) {
	if s.Resource == "" {
		return
	}
	acts, seen := ss.actions[s.Resource]
	if !seen {
		ss.order = append(ss.order, s.Resource)
	}
	for _, a := range s.Actions {
		if a != "" && !slices.Contains(acts, a) {
			acts = append(acts, a)
		}
	}
	slices.Sort(acts)
	ss.actions[s.Resource] = acts
}

// addList adds the scopes of a space-separated scope list, as a challenge's
// scope parameter holds.
func (ss *scopeSet) addList(list string) {
	for f := range strings.FieldsSeq(list) {
		ss.add(parseScope(f))
	}
}

// union returns a new set with the scopes of ss, then those of o.
func (ss *scopeSet) union(o *scopeSet) *scopeSet {
	u := newScopeSet()
	for _, set := range []*scopeSet{ss, o} {
		for _, r := range set.order {
			u.add(Scope{Resource: r, Actions: set.actions[r]})
		}
	}
	return u
}

// covers reports whether ss grants everything o asks for. "*" grants
// every action of its resource.
func (ss *scopeSet) covers(o *scopeSet) bool {
	for r, want := range o.actions {
		have, ok := ss.actions[r]
		if !ok {
			return false
		}
		if slices.Contains(have, actionAll) {
			continue
		}
		for _, a := range want {
			if !slices.Contains(have, a) {
				return false
			}
		}
	}
	return true
}

// strings returns the scopes in the order their resources came.
func (ss *scopeSet) strings() []string {
	out := make([]string, 0, len(ss.order))
	for _, r := range ss.order {
		out = append(out, Scope{Resource: r, Actions: ss.actions[r]}.String())
	}
	return out
}

// key returns the set in a canonical form: its scopes sorted.
func (ss *scopeSet) key() string {
	s := ss.strings()
	slices.Sort(s)
	return strings.Join(s, " ")
}

// WithScopes returns a copy of ctx that asks for scopes too whenever a
// [RoundTripper] fetches a token for a request made with it, on top of what
// the request itself needs. Use it so that one token covers a whole
// operation of your own making; regkit's own operations need none (a push
// asks for push access to its repository before its first request, a copy
// within one registry for pull on the source and push on the target).
// Scopes add up over nested calls. They are hints for any registry the
// context reaches: a token server grants what it can of them and ignores
// the rest, as the protocol requires.
func WithScopes(ctx context.Context, scopes ...Scope) context.Context {
	hints := make([]intent.Hint, 0, len(scopes))
	for _, s := range scopes {
		hints = append(hints, intent.Hint{Scope: intent.Scope{Resource: s.Resource, Actions: s.Actions}})
	}
	return intent.With(ctx, hints...)
}

// requestScopes returns the scopes r needs, as distribution's
// authorization computes them, followed by the hints of its context: those
// for every registry, and those for an origin ours accepts (nil accepts
// none).
func requestScopes(r *http.Request, ours func(origin string) bool) *scopeSet {
	ss := newScopeSet()
	name, catalog := apiName(r.URL.EscapedPath())
	switch {
	case catalog:
		ss.add(Scope{Resource: "registry:catalog", Actions: []string{actionAll}})
	case name != "":
		if acts := methodActions(r.Method); acts != nil {
			ss.add(Scope{Resource: "repository:" + name, Actions: acts})
		}
		if r.Method != http.MethodPost {
			break // only a POST mounts: other requests' queries go unparsed
		}
		if from := r.URL.Query().Get("from"); from != "" {
			ss.add(Scope{Resource: "repository:" + from, Actions: []string{actionPull}})
		}
	}
	for _, h := range intent.Hints(r.Context()) {
		if h.Origin == "" || (ours != nil && ours(h.Origin)) {
			ss.add(Scope{Resource: h.Scope.Resource, Actions: h.Scope.Actions})
		}
	}
	return ss
}

// methodActions returns the actions distribution requires of a method.
func methodActions(method string) []string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return []string{actionPull}
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return []string{actionPull, actionPush}
	case http.MethodDelete:
		return []string{actionDelete}
	}
	return nil
}

// apiName returns the repository name of a distribution API path, read
// by [route.Parse] as a server reads it, or reports the catalog. Other
// paths give neither.
func apiName(escaped string) (name string, catalog bool) {
	t, err := route.Parse(escaped)
	if err != nil {
		return "", false
	}
	return t.Name, t.Kind == route.Catalog
}
