// Package e2e holds regkit's end-to-end tests: the behaviour suite over HTTP
// against the fake registry and against Debian's docker-registry, and real
// clients (skopeo) against the fake. It has no non-test code.
package e2e
