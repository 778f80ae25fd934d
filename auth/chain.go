package auth

import (
	"context"
	"fmt"
)

// Chain returns a [CredentialStore] that asks stores in order and returns the first
// credential that is not zero; a host none of them knows is anonymous. Nil
// stores are skipped.
//
// An error from a store stops the chain: the later stores are not asked, so
// that a broken configuration is reported instead of silently falling back
// to another identity (or to anonymous). The error is returned wrapped with
// the store's place in the chain; match it with [errors.Is] and
// [errors.As]. The chain is safe for concurrent use when its stores are.
func Chain(stores ...CredentialStore) CredentialStore {
	return chainStore(append([]CredentialStore(nil), stores...))
}

// chainStore is the CredentialStore of [Chain].
type chainStore []CredentialStore

var _ CredentialStore = chainStore(nil)

// Credential asks each store in turn.
func (c chainStore) Credential(ctx context.Context, host string) (Credential, error) {
	for i, s := range c {
		if s == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return Credential{}, err
		}
		cred, err := s.Credential(ctx, host)
		if err != nil {
			return Credential{}, fmt.Errorf("auth: store %d of %d in chain: %w", i+1, len(c), err)
		}
		if !cred.IsZero() {
			return cred, nil
		}
	}
	return Credential{}, nil
}
