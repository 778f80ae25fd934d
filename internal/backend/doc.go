// Package backend holds what regkit's own Transport implementations
// (registry/fake, registry/ocilayout) share beyond the checks every side of
// regkit makes (names, references, digests and manifests, in internal/spec):
// the checks of a request as a store sees them, paging, upload bounds and
// the errors of things not found, so that they answer alike.
//
// It implements no storage and never reuses the client side of regkit (its
// push and pull logic): it depends on package transport for the error codes
// and on packages spec and image for the grammar of names and media types
// only.
package backend
