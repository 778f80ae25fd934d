// Package backend holds the request checks and manifest parsing that
// regkit's own Transport implementations (registry/fake, registry/ocilayout)
// share, so that they answer bad input alike.
//
// It implements no storage and never reuses the client side of regkit (its
// push and pull logic): it depends on package transport for the error codes
// and on packages reference and image for the grammar of names and media
// types only.
package backend
