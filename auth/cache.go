package auth

import (
	"context"
	"errors"
	"time"
)

// maxCachedTokens bounds the tokens a [RoundTripper] keeps; past it, the one
// that expires first goes.
const maxCachedTokens = 64

// token is a bearer token and what it was asked for.
type token struct {
	value  string
	scopes *scopeSet
	// any marks a token good for every scope: a registry token the
	// credential store handed over.
	any bool
	// refreshAt is when the token stops being used, a little before it
	// expires; zero means never.
	refreshAt time.Time
}

// fresh reports whether tok may still be sent at now.
func (tok *token) fresh(now time.Time) bool {
	return tok.refreshAt.IsZero() || now.Before(tok.refreshAt)
}

// serves reports whether tok may be sent, at now, for a request that needs
// need.
func (tok *token) serves(need *scopeSet, now time.Time) bool {
	return tok.fresh(now) && (tok.any || tok.scopes.covers(need))
}

// tokenCache holds the tokens of one registry. It is not safe for
// concurrent use: the RoundTripper's mutex guards it.
type tokenCache struct {
	tokens []*token
}

// get returns a fresh token that covers need, the most recent first, or
// nil.
func (c *tokenCache) get(need *scopeSet, now time.Time) *token {
	for i := len(c.tokens) - 1; i >= 0; i-- {
		if tok := c.tokens[i]; tok.serves(need, now) {
			return tok
		}
	}
	return nil
}

// put adds tok, dropping the stale tokens and those tok makes useless
// (covering no more and expiring no later).
func (c *tokenCache) put(tok *token, now time.Time) {
	kept := c.tokens[:0]
	for _, old := range c.tokens {
		superseded := (tok.any || tok.scopes.covers(old.scopes)) &&
			(tok.refreshAt.IsZero() || (!old.refreshAt.IsZero() && !old.refreshAt.After(tok.refreshAt)))
		if old.fresh(now) && !superseded {
			kept = append(kept, old)
		}
	}
	clear(c.tokens[len(kept):])
	c.tokens = append(kept, tok)
	if len(c.tokens) > maxCachedTokens {
		first := 0
		for i, t := range c.tokens {
			if !t.refreshAt.IsZero() && (c.tokens[first].refreshAt.IsZero() || t.refreshAt.Before(c.tokens[first].refreshAt)) {
				first = i
			}
		}
		c.drop(c.tokens[first])
	}
}

// drop removes tok, if it is there.
func (c *tokenCache) drop(tok *token) {
	for i, t := range c.tokens {
		if t == tok {
			c.tokens = append(c.tokens[:i], c.tokens[i+1:]...)
			return
		}
	}
}

// flight is a token request under way, which requests that need no more
// than it asks for wait on rather than sending their own.
type flight struct {
	need *scopeSet
	done chan struct{}
	tok  *token // set before done closes, with err
	err  error
}

// bearerToken returns a token for need: a cached one, the one of a fetch
// already under way, or a new one from the realm. reject, if not nil, is
// a token the registry has just refused: it leaves the cache and is never
// returned.
//
// Requests that need the same scopes share one fetch. A waiter whose own
// context is done stops waiting; one whose fetch failed only because the
// fetching request was canceled tries again.
func (t *RoundTripper) bearerToken(ctx context.Context, need *scopeSet, ch *bearerChallenge, reject *token) (*token, error) {
	for {
		t.mu.Lock()
		if reject != nil {
			t.tokens.drop(reject)
		}
		if tok := t.tokens.get(need, t.now()); tok != nil {
			t.mu.Unlock()
			return tok, nil
		}
		var f *flight
		for g := range t.flights {
			if g.need.covers(need) {
				f = g
				break
			}
		}
		if f != nil {
			t.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && isContextError(f.err) && ctx.Err() == nil {
				continue // the fetching request gave up; this one has not
			}
			return f.tok, f.err
		}
		f = &flight{need: need, done: make(chan struct{})}
		t.flights[f] = struct{}{}
		t.mu.Unlock()

		tok, err := t.fetchToken(ctx, need, ch)

		t.mu.Lock()
		delete(t.flights, f)
		if err == nil {
			t.tokens.put(tok, t.now())
		}
		t.mu.Unlock()
		f.tok, f.err = tok, err
		close(f.done)
		return tok, err
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
