// Package intent carries, in a context, the access an operation will need
// on a registry, so that the auth layer under its transport (package auth)
// asks a token server once for all of it, as docker does, instead of once
// per step: a push asks for pull and push on its repository before its
// first request, which only reads; a copy within one registry asks for pull
// on the source and pull and push on the target in the same token request.
//
// A hint names the registry it is for by its origin
// ([transport.Originer]), so that the hints of a copy's target never reach
// the token server of its source.
package intent

import (
	"context"
	"slices"

	"github.com/regkit/regkit/transport"
)

// Scope is an access request of the token protocol: a resource
// ("repository:team/app") and the actions wanted on it.
type Scope struct {
	Resource string
	Actions  []string
}

// Hint is a scope wanted on one registry.
type Hint struct {
	// Origin is the registry the scope is for, as [transport.Originer]
	// gives it ("https://ghcr.io"); "" means every registry the context
	// reaches.
	Origin string
	Scope  Scope
}

// key is the context key of the hints.
type key struct{}

// With returns a copy of ctx that also holds hints, after those it had.
func With(ctx context.Context, hints ...Hint) context.Context {
	if len(hints) == 0 {
		return ctx
	}
	old := Hints(ctx)
	all := make([]Hint, 0, len(old)+len(hints))
	all = append(all, old...)
	for _, h := range hints {
		h.Scope.Actions = slices.Clone(h.Scope.Actions)
		all = append(all, h)
	}
	return context.WithValue(ctx, key{}, all)
}

// Hints returns the hints of ctx, oldest first. The caller must not change
// them.
func Hints(ctx context.Context) []Hint {
	h, _ := ctx.Value(key{}).([]Hint)
	return h
}

// Push returns a copy of ctx that asks for pull and push on repository
// name of the registry t reaches. A transport without an origin (in
// memory, on disk) has no token server: ctx comes back as it is.
func Push(ctx context.Context, t transport.Transport, name string) context.Context {
	return repository(ctx, t, name, "pull", "push")
}

// Pull returns a copy of ctx that asks for pull on repository name of the
// registry t reaches, as [Push] does.
func Pull(ctx context.Context, t transport.Transport, name string) context.Context {
	return repository(ctx, t, name, "pull")
}

func repository(ctx context.Context, t transport.Transport, name string, actions ...string) context.Context {
	if t == nil {
		return ctx
	}
	o, ok := transport.Find[transport.Originer](t)
	if !ok || o.Origin() == "" {
		return ctx
	}
	return With(ctx, Hint{Origin: o.Origin(), Scope: Scope{Resource: "repository:" + name, Actions: actions}})
}
